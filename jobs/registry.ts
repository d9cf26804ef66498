/** Built-in jobs, by name. `sluice list` prints them; `sluice run <name>` loads one. */
export const builtinJobs: Record<string, { href: string; description: string }> = {
  'wikipedia-ingest': {
    href: new URL('./wikipedia-ingest.ts', import.meta.url).href,
    description: 'Wikimedia recentchange SSE stream (resumable by Last-Event-ID) into Kafka wikipedia.recentchange, keyed by wiki.',
  },
  wikipedia: {
    href: new URL('./wikipedia.ts', import.meta.url).href,
    description: 'Kafka wikipedia.recentchange: schema check, Hive-layout Parquet, event-time window aggregates into BigQuery.',
  },
  'orders-payments': {
    href: new URL('./orders-payments.ts', import.meta.url).href,
    description: 'Kafka orders_topic_data_v1 ⋈ payments_topic_data_v1 on order_id (interval join; unpaid after 15 min) into MongoDB ecommerce_mart.',
  },
  'orders-payments-demo': {
    href: new URL('./orders-payments-demo.ts', import.meta.url).href,
    description: 'Embedded demo: generated orders and payments (seed 001 shapes), keyed by order_id, into local files. No servers.',
  },
  'keyed-count': {
    href: new URL('./keyed-count.ts', import.meta.url).href,
    description: 'Counts records per key from a Kafka topic (JSON {key}) into an upsert Kafka topic, or from a generator into files.',
  },
  'users-ingest': {
    href: new URL('./users-ingest.ts', import.meta.url).href,
    description: 'Polls the randomuser.me API into Kafka topic users_created, keyed by login.uuid; invalid users to users_created.dlq.',
  },
  'users-to-cassandra': {
    href: new URL('./users-to-cassandra.ts', import.meta.url).href,
    description: 'Kafka users_created -> Cassandra spark_streams.created_users (idempotent upserts).',
  },
  'users-raw-to-postgres': {
    href: new URL('./users-raw-to-postgres.ts', import.meta.url).href,
    description: 'Kafka users_created -> PostgreSQL raw_users (id, payload jsonb, ingested_at), upsert by id.',
  },
};

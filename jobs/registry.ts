/** Built-in jobs, by name. `sluice list` prints them; `sluice run <name>` loads one. */

// The modules' own extension: .ts in the repository, .js once compiled to dist/ (a URL string is not an import, so tsc does not rewrite it).
const EXT = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
const job = (name: string): string => new URL(`./${name}${EXT}`, import.meta.url).href;

export const builtinJobs: Record<string, { href: string; description: string }> = {
  'wikipedia-ingest': {
    href: job('wikipedia-ingest'),
    description: 'Wikimedia recentchange SSE stream (resumable by Last-Event-ID) into Kafka wikipedia.recentchange, keyed by wiki.',
  },
  wikipedia: {
    href: job('wikipedia'),
    description: 'Kafka wikipedia.recentchange: schema check, Hive-layout Parquet, event-time window aggregates into BigQuery.',
  },
  'orders-payments': {
    href: job('orders-payments'),
    description: 'Kafka orders_topic_data_v1 ⋈ payments_topic_data_v1 on order_id (interval join; unpaid after 15 min) into MongoDB ecommerce_mart.',
  },
  'orders-payments-demo': {
    href: job('orders-payments-demo'),
    description: 'Embedded demo: generated orders and payments (seed 001 shapes), keyed by order_id, into local files. No servers.',
  },
  'keyed-count': {
    href: job('keyed-count'),
    description: 'Counts records per key from a Kafka topic (JSON {key}) into an upsert Kafka topic, or from a generator into files.',
  },
  'users-ingest': {
    href: job('users-ingest'),
    description: 'Polls the randomuser.me API into Kafka topic users_created, keyed by login.uuid; invalid users to users_created.dlq.',
  },
  'users-to-cassandra': {
    href: job('users-to-cassandra'),
    description: 'Kafka users_created -> Cassandra spark_streams.created_users (idempotent upserts).',
  },
  'users-raw-to-postgres': {
    href: job('users-raw-to-postgres'),
    description: 'Kafka users_created -> PostgreSQL raw_users (id, payload jsonb, ingested_at), upsert by id.',
  },
};

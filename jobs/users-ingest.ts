/**
 * users-ingest: polls the randomuser.me API and writes each user as one JSON
 * record to Kafka topic `users_created`, keyed by `login.uuid` (seeds 002-004's
 * Airflow DAG, which ran for one minute; here it runs until stopped, or for
 * `durationMs` / `count`).
 *
 *   sluice run users-ingest --brokers 127.0.0.1:9092 --set durationMs=60000
 *
 * Every user is checked against the JSON Schema in users/randomuser-schema.ts
 * first; a user that fails it, or is too large for a Kafka record, goes to
 * `users_created.dlq` with the validation errors (the runtime's dead-letter
 * record: {job, partition, operator, source, reason, error: {message}, value}),
 * and polling goes on.
 *
 * Delivery: the poller's position is checkpointed with the outbox, so after a
 * crash the interrupted page is fetched again (same seed, same page) and the
 * outbox is redelivered. A user can therefore reach the topic twice, with the
 * same key and value; the consumers upsert by key, so their tables do not change.
 */
import { defineJob, kafkaSink } from '../api/index.ts';
import type { RandomUserResult } from './users/randomuser-schema.ts';
import { RANDOMUSER_URL, randomUserSource } from './users/randomuser-source.ts';

export default defineJob({
  name: 'users-ingest',
  description: 'Polls the randomuser.me API into Kafka topic users_created (keyed by login.uuid); invalid users to users_created.dlq',
  settings: {
    url: RANDOMUSER_URL,
    /** Users per request. */
    batch: 10,
    intervalMs: 1000,
    timeoutMs: 10_000,
    /** Stop after this many users; 0 = no limit. */
    count: 0,
    /** Stop after polling this long; 0 = until stopped (the seeds' DAG used 60000). */
    durationMs: 0,
    /** Comma-separated nationalities (e.g. "us,br"); empty = all. */
    nat: '',
    backoffInitialMs: 500,
    backoffMaxMs: 30_000,
    topic: 'users_created',
    /** Partitions if the sink creates the topic. */
    topicPartitions: 4,
    /** Read by the runtime: where dead letters go. */
    dlqTopic: 'users_created.dlq',
  },
  sources: (s) => ({
    users: randomUserSource({
      url: s.url,
      batch: s.batch,
      intervalMs: s.intervalMs,
      timeoutMs: s.timeoutMs,
      count: s.count,
      durationMs: s.durationMs,
      nat: s.nat,
      backoffInitialMs: s.backoffInitialMs,
      backoffMaxMs: s.backoffMaxMs,
    }),
  }),
  sinks: (s) => ({
    users: kafkaSink({
      topic: s.topic,
      codec: 'json',
      partitions: s.topicPartitions,
      key: (v) => (v as RandomUserResult).login.uuid,
    }),
  }),
  pipeline(b) {
    b.source<RandomUserResult>('users').to('users');
  },
});

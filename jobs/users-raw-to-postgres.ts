/**
 * users-raw-to-postgres: reads Kafka topic `users_created` and keeps every
 * user's raw JSON in PostgreSQL table `raw_users` (seed 003's raw store),
 * creating the table if it is missing:
 *
 *   raw_users (id uuid PRIMARY KEY, payload jsonb NOT NULL, ingested_at timestamptz NOT NULL)
 *
 * `id` is the same UUIDv5 of login.uuid as the Cassandra row's, so the two
 * stores join on it. `ingested_at` is the Kafka record's timestamp (when
 * users-ingest fetched the user); on conflict the earliest is kept, so the
 * upsert gives the same row whatever order or how often records are replayed.
 *
 *   sluice run users-raw-to-postgres --brokers 127.0.0.1:9092 --set postgres=postgres://user@host:5432/db
 */
import { defineJob, kafkaSource } from '../api/index.ts';
import { postgresSink } from '../api/sinks/postgres.ts';
import { userId } from './users/user-row.ts';

interface RawUser {
  login: { uuid: string };
  [more: string]: unknown;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export default defineJob({
  name: 'users-raw-to-postgres',
  description: 'Kafka users_created -> PostgreSQL raw_users (id, payload jsonb, ingested_at), upsert by id',
  settings: {
    topic: 'users_created',
    /** Read by the runtime: where records that are not valid users go. */
    dlqTopic: 'users-raw-to-postgres.dlq',
    postgres: 'postgres://postgres@127.0.0.1:5432/postgres',
    table: 'raw_users',
  },
  sources: (s) => ({
    // Raw means as received: only the key is required (it gives the row id).
    users: kafkaSource<RawUser>({
      topic: s.topic,
      codec: 'json',
      startFrom: 'earliest',
      validate: (v) => (typeof v?.login?.uuid === 'string' && UUID.test(v.login.uuid) ? undefined : 'no login.uuid (a UUID) to derive the row id from'),
    }),
  }),
  sinks: (s) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(s.table)) throw new RangeError(`users-raw-to-postgres: table "${s.table}" is not a plain identifier`);
    return {
      raw: postgresSink({
        url: s.postgres,
        table: s.table,
        columns: ['id', 'payload', 'ingested_at'],
        key: ['id'],
        row: (v, time) => [userId((v as RawUser).login.uuid), JSON.stringify(v), new Date(time)],
        onConflict: { ingested_at: 'LEAST(t.ingested_at, EXCLUDED.ingested_at)' },
        setup: [`CREATE TABLE IF NOT EXISTS ${s.table} (id uuid PRIMARY KEY, payload jsonb NOT NULL, ingested_at timestamptz NOT NULL)`],
      }),
    };
  },
  pipeline(b) {
    b.source<RawUser>('users').to('raw');
  },
});

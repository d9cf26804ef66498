/**
 * users-to-cassandra: reads Kafka topic `users_created` (written by
 * users-ingest) and upserts each user into Cassandra table
 * `spark_streams.created_users`, the table of seeds 002-004, creating the
 * keyspace and table if they are missing.
 *
 *   sluice run users-to-cassandra --brokers 127.0.0.1:9092 --set cassandra=127.0.0.1:9042
 *
 * Row mapping: users/user-row.ts (id = UUIDv5 of login.uuid, so a replay
 * rewrites the same row). A record that is not a valid randomuser result
 * goes to `users-to-cassandra.dlq` with the schema errors.
 */
import { defineJob, kafkaSource } from '../api/index.ts';
import { cassandraSink } from '../api/sinks/cassandra.ts';
import { validateRandomUser, type RandomUserResult } from './users/randomuser-schema.ts';
import { CREATED_USERS_COLUMNS, toCreatedUserRow, type CreatedUserRow } from './users/user-row.ts';

/** CQL identifiers come from settings: only plain names, so a setting cannot inject CQL. */
function ident(name: string, what: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,47}$/.test(name)) throw new RangeError(`users-to-cassandra: ${what} "${name}" is not a plain CQL identifier`);
  return name;
}

/** The seeds' table: every column text except the id (the seeds' own DDL). */
export function createdUsersDdl(keyspace: string, table: string, replication: string): string[] {
  if (!/^\{[^;]*\}$/.test(replication.trim())) {
    throw new RangeError(`users-to-cassandra: replication must be a CQL map like {'class': 'SimpleStrategy', 'replication_factor': 1}, got ${replication}`);
  }
  const ks = ident(keyspace, 'keyspace');
  const t = ident(table, 'table');
  const cols = CREATED_USERS_COLUMNS.map((c) => (c === 'id' ? 'id uuid PRIMARY KEY' : `${c} text`)).join(', ');
  return [`CREATE KEYSPACE IF NOT EXISTS ${ks} WITH replication = ${replication.trim()}`, `CREATE TABLE IF NOT EXISTS ${ks}.${t} (${cols})`];
}

export default defineJob({
  name: 'users-to-cassandra',
  description: 'Kafka users_created -> Cassandra spark_streams.created_users (idempotent upserts by a UUIDv5 of login.uuid)',
  settings: {
    topic: 'users_created',
    /** Read by the runtime: where records that are not valid users go. */
    dlqTopic: 'users-to-cassandra.dlq',
    /** Comma-separated host:port contact points. */
    cassandra: '127.0.0.1:9042',
    localDataCenter: 'datacenter1',
    keyspace: 'spark_streams',
    table: 'created_users',
    /** Used only when the keyspace is created. */
    replication: "{'class': 'SimpleStrategy', 'replication_factor': 1}",
    /** Writes in flight per worker thread (bench users-sinks: 32 -> ~9k rows/s, 128 -> ~17k rows/s on 2 cores). */
    concurrency: 128,
    consistency: 'localQuorum',
  },
  choices: { consistency: ['one', 'localOne', 'quorum', 'localQuorum', 'all'] },
  sources: (s) => ({
    users: kafkaSource<RandomUserResult>({ topic: s.topic, codec: 'json', startFrom: 'earliest', validate: (v) => validateRandomUser(v) }),
  }),
  sinks: (s) => ({
    rows: cassandraSink({
      contactPoints: s.cassandra.split(',').map((c) => c.trim()).filter(Boolean),
      addressHint: '--set cassandra=host:port',
      localDataCenter: s.localDataCenter,
      keyspace: ident(s.keyspace, 'keyspace'),
      table: ident(s.table, 'table'),
      columns: CREATED_USERS_COLUMNS,
      key: ['id'],
      row: (v) => {
        const r = v as CreatedUserRow;
        return CREATED_USERS_COLUMNS.map((c) => r[c]);
      },
      setup: createdUsersDdl(s.keyspace, s.table, s.replication),
      concurrency: s.concurrency,
      consistency: s.consistency as 'one' | 'localOne' | 'quorum' | 'localQuorum' | 'all',
    }),
  }),
  pipeline(b) {
    b.source<RandomUserResult>('users').map(toCreatedUserRow, 'to-row').to('rows');
  },
});

/** `sluice/sinks/postgres`: the PostgreSQL sink (upsert by key). Importing it loads `pg`. */
export {
  postgresSink,
  isRetryablePgError,
  type PostgresSinkOptions,
  type PostgresSinkStats,
} from '../../engine/sinks/postgres-sink.ts';

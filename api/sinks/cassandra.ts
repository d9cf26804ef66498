/** `sluice/sinks/cassandra`: the Cassandra sink (idempotent upserts). Importing it loads `cassandra-driver`. */
export {
  cassandraSink,
  isRetryableCassandraError,
  type CassandraSinkOptions,
  type CassandraSinkStats,
} from '../../engine/sinks/cassandra-sink.ts';

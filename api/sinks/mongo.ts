/** `sluice/sinks/mongo`: the MongoDB sink (idempotent upserts). Importing it loads the `mongodb` driver. */
export {
  mongoSink,
  isRetryableMongoError,
  redactUri,
  type MongoSinkOptions,
  type MongoSinkSpec,
  type MongoSinkDriver,
  type MongoSinkStats,
} from '../../engine/sinks/mongo-sink.ts';

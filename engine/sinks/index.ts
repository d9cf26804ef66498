export { fileSink, type FileSinkOptions } from './file-sink.ts';
export { discardSink } from './discard-sink.ts';
export { kafkaSink, type KafkaSinkOptions } from './kafka-sink.ts';
export { mongoSink, redactUri, type MongoSinkOptions, type MongoSinkStats } from './mongo-sink.ts';

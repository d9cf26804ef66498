/**
 * `sluice`: the public job API. A user's job module imports from here (the
 * package name `sluice`) and default-exports `defineJob({...})`.
 *
 * This entry loads no database or file-format driver: the MongoDB, Cassandra,
 * PostgreSQL, BigQuery and Parquet sinks, the SSE and HTTP-poll sources and
 * JSON Schema validation each have a subpath of their own (`sluice/sinks/mongo`,
 * `sluice/schema`, ...; see docs/api/), so a driver loads only in a job that
 * imports it. Kafka (kafkajs, and @platformatic/kafka for producing) is the engine's own transport and loads here.
 */
export { defineJob, type JobDefinition, type SettingChoices, type Settings, type SettingValue } from '../engine/contracts/job.ts';
export { PipelineBuilder, Stream, ConnectedStreams } from '../engine/contracts/pipeline.ts';
export {
  Operator,
  type Batch,
  type Key,
  type OperatorContext,
  type Timer,
  type TimerKind,
  type TimerControl,
  type ValueState,
  type MapState,
} from '../engine/contracts/operator.ts';
export {
  kafkaSource,
  generatorSource,
  fileSource,
  customSource,
  type SourceSpec,
  type KafkaSourceSpec,
  type GeneratorSourceSpec,
  type FileSourceSpec,
  type CustomSourceSpec,
  type CustomSourceReader,
  type ValueCodec,
  type WatermarkSpec,
  type InputLimits,
} from '../engine/contracts/sources.ts';
// The sink contract (a custom sink implements SinkDriver). markerWatermark reads the watermark records
// a sink with `watermarks: true` receives; making them (watermarkMarker) is the runtime's business.
export {
  markerWatermark,
  type SinkSpec,
  type SinkDriver,
  type SinkDriverLifecycle,
  type TwoPhaseSinkDriver,
  type AnySinkDriver,
  type SinkEpoch,
  type EpochTransaction,
  type SinkDelivery,
  type SinkRecord,
  type SinkContext,
  type RuntimeInfo,
  type KafkaOutputRecord,
  type WatermarkMarker,
} from '../engine/contracts/sinks.ts';
export { fileSink, type FileSinkOptions } from '../engine/sinks/file-sink.ts';
export { kafkaSink, type KafkaSinkOptions } from '../engine/sinks/kafka-sink.ts';
export { discardSink } from '../engine/sinks/discard-sink.ts';
export { KeyedProcessFunction } from '../engine/operators/keyed-process.ts';
export { IntervalJoin, JOIN_SIDE_OUTPUTS, type IntervalJoinOptions, type JoinMode } from '../engine/operators/interval-join.ts';
export { repartitionSink, type RepartitionEnvelope, type RepartitionSinkOptions } from '../engine/sinks/repartition-sink.ts';
export { RepartitionReader } from '../engine/operators/repartition-reader.ts';
export {
  tumblingWindow,
  hoppingWindow,
  sessionWindow,
  aggregate,
  count,
  countDistinct,
  sum,
  min,
  max,
  timeRange,
  type Aggregator,
  type WindowOptions,
  type WindowResult,
  type EmissionKind,
} from '../engine/operators/windows/index.ts';
export type { BackoffOptions } from '../engine/sources/backoff.ts';
export { SluiceError, ErrorCodes, type ErrorCode, type SluiceErrorOptions } from '../engine/errors.ts';

/**
 * The public job API. A user's job module imports from here (or from the
 * package name `sluice`) and default-exports `defineJob({...})`.
 */
export { defineJob, type JobDefinition, type SettingChoices, type Settings, type SettingValue } from '../engine/contracts/job.ts';
export { PipelineBuilder, Stream, ConnectedStreams } from '../engine/contracts/pipeline.ts';
export { Operator, type Batch, type Key, type OperatorContext, type Timer, type TimerKind, type ValueState, type MapState } from '../engine/contracts/operator.ts';
export { kafkaSource, generatorSource, fileSource, customSource, type SourceSpec, type ValueCodec, type CustomSourceReader, type CustomSourceSpec } from '../engine/contracts/sources.ts';
export type { SinkSpec, SinkDriver, SinkRecord, SinkDelivery, SinkContext } from '../engine/contracts/sinks.ts';
export { fileSink, kafkaSink, discardSink } from '../engine/sinks/index.ts';
export { KeyedProcessFunction } from '../engine/operators/keyed-process.ts';
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
export { sseSource, WIKIMEDIA_RECENTCHANGE_URL, type SseSourceOptions } from '../engine/sources/sse-source.ts';
export { parquetSink, type ParquetSinkOptions } from '../engine/sinks/parquet-sink.ts';
// The BigQuery sink is not re-exported here: importing it loads @google-cloud/bigquery in every
// worker of every job. Import it from engine/sinks/bigquery-sink.ts (see jobs/wikipedia.ts).

/**
 * Source declarations. A job's sources are co-partitioned: partition p of
 * every source feeds the same partition actor, so a key's state lives in one
 * place. The runtime checks that the partition counts agree.
 */

/** How a Kafka value (or a recorded line) becomes a record. */
export type ValueCodec =
  | 'json'
  | 'msgpack'
  | 'string'
  | 'buffer'
  | { name: string; decode(buf: Uint8Array): unknown; encode(value: unknown): Uint8Array };

export interface WatermarkSpec {
  /** Records may arrive this much later than the newest event time seen (bounded out-of-orderness). */
  maxOutOfOrdernessMs?: number;
  /** A partition silent for this long stops holding the watermark back. */
  idleTimeoutMs?: number;
  /**
   * What an idle partition's watermark does. 'hold' (default): it is left
   * out of the minimum, and when every partition is idle the watermark stays
   * where it is. 'wall-clock': it advances to the current time minus the
   * out-of-orderness bound, as if a record with the current time had
   * arrived (Beam's KafkaIO idle policy), so windows of a quiet stream still
   * close. Only for sources whose event time follows the wall clock (live
   * feeds); a partition that never had a record stays out of it.
   */
  idleAdvance?: 'hold' | 'wall-clock';
  /**
   * For an internal (repartition) source whose sink forwards watermarks
   * (repartitionSink({ forwardWatermarks: true })): the partition's watermark
   * is the minimum of the upstream partitions' watermarks carried in-band by
   * the topic, not its records' times (whose order across upstream
   * partitions is arbitrary). Records' times then play no part, and
   * maxOutOfOrdernessMs is ignored.
   */
  upstream?: boolean;
}

/**
 * Limits every record of a source passes before it reaches user code or
 * state (engine/runtime/input-gate.ts). A record over one is dead-lettered
 * with reason `limit_exceeded` and the limit it broke. Defaults: INPUT_LIMIT_DEFAULTS
 * (engine/runtime/input-limits.ts), documented in docs/engine.md ("Input limits").
 */
export interface InputLimits {
  /** Deepest nesting of arrays and objects. Default 64. */
  maxDepth?: number;
  /** Largest value, in bytes as read (Kafka values). Default 1 MiB (1,048,576). */
  maxValueBytes?: number;
  /** Longest string in a value: bytes of its JSON text, escapes included (UTF-16 units for decoded values). Default 262,144. */
  maxStringLength?: number;
  /** An event time further than this ahead of the watermark or the wall clock, whichever is later, is dead-lettered, not held. Default 7 days. */
  maxEventTimeAheadMs?: number;
  /** An event time further behind the watermark than this is dead-lettered. Default: no bound (late records are the operators' business). */
  maxEventTimeBehindMs?: number;
}

// Callbacks use method syntax on purpose: methods are bivariant in their
// parameters, so a SourceSpec<Order> is usable where a SourceSpec is expected.
interface SourceCommon<T> {
  /** Event time of a record, ms. Default: the Kafka record timestamp, or the generator's/file's position time. */
  timestamp?(value: T): number;
  watermark?: WatermarkSpec;
  /**
   * Optional validation run in the worker after decoding. Return undefined for
   * a valid record, or a reason: the record then goes to the dead-letter
   * destination with that reason, and processing goes on.
   */
  validate?(value: T): string | undefined;
  /** Input limits; unset fields take the defaults. */
  limits?: InputLimits;
}

export interface KafkaSourceSpec<T = unknown> extends SourceCommon<T> {
  readonly kind: 'kafka';
  topic: string;
  codec: ValueCodec;
  /** Where a partition starts when no checkpoint exists for it. */
  startFrom?: 'earliest' | 'latest';
  /**
   * A topic the job itself writes (a repartition topic): when it does not
   * exist at start, it is created with the partition count of the job's
   * other sources.
   */
  internal?: boolean;
}

/**
 * A deterministic generator: the record at (partition, offset) depends on
 * nothing else, so a restart that resumes at offset n replays exactly.
 */
export interface GeneratorSourceSpec<T = unknown> extends SourceCommon<T> {
  readonly kind: 'generator';
  partitions: number;
  /** Records per partition; undefined runs until stopped. */
  count?: number;
  /** Records per second per partition; undefined runs as fast as it can. */
  ratePerSec?: number;
  generate(partition: number, offset: number): T;
}

/** A recorded file replayed by position (line, SSE event, or array element). */
export interface FileSourceSpec<T = unknown> extends SourceCommon<T> {
  readonly kind: 'file';
  path: string;
  format: 'ndjson' | 'sse' | 'json-array';
  /** For json-array: the field of the top-level object holding the array (e.g. "results"). */
  arrayField?: string;
  /** Record i goes to partition i % partitions. Default 1. */
  partitions?: number;
  /** Replay the file this many times (offsets keep counting). Default 1. */
  repeat?: number;
}

/**
 * A source with its own resumable position (an HTTP poller, an SSE stream),
 * after Bytewax's StatefulSourcePartition. The runtime numbers its records
 * (offset = records read so far) and stores `snapshot()` in the same
 * checkpoint transaction as the state they produced, so a restart resumes
 * exactly after the last checkpointed record.
 */
export interface CustomSourceSpec<T = unknown> extends SourceCommon<T> {
  readonly kind: 'custom';
  partitions: number;
  /** Opens partition p's reader; `resume` is what its snapshot() returned at the last checkpoint, or undefined. */
  open(partition: number, resume: unknown): CustomSourceReader<T>;
}

export interface CustomSourceReader<T = unknown> {
  /**
   * Up to `max` records. Resolve [] for "nothing yet" (the runtime asks again
   * shortly), or null when the source is finished for good. The runtime never
   * calls next() again before the previous call settled.
   */
  next(max: number): Promise<T[] | null>;
  /**
   * The position after the last batch next() resolved with (not after
   * records still being fetched): JSON-serializable, taken at each checkpoint.
   */
  snapshot(): unknown;
  close(): Promise<void>;
}

export type SourceSpec<T = unknown> = KafkaSourceSpec<T> | GeneratorSourceSpec<T> | FileSourceSpec<T> | CustomSourceSpec<T>;

export function kafkaSource<T = unknown>(spec: Omit<KafkaSourceSpec<T>, 'kind'>): KafkaSourceSpec<T> {
  return { kind: 'kafka', ...spec };
}

export function generatorSource<T>(spec: Omit<GeneratorSourceSpec<T>, 'kind'>): GeneratorSourceSpec<T> {
  return { kind: 'generator', ...spec };
}

export function fileSource<T = unknown>(spec: Omit<FileSourceSpec<T>, 'kind'>): FileSourceSpec<T> {
  return { kind: 'file', ...spec };
}

export function customSource<T = unknown>(spec: Omit<CustomSourceSpec<T>, 'kind'>): CustomSourceSpec<T> {
  return { kind: 'custom', ...spec };
}

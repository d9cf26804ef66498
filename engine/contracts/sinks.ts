/**
 * Sink declarations and the driver contract: how output leaves sluice.
 *
 * Output reaches a sink only after the checkpoint that holds it is durable:
 * the partition actor writes it to its outbox in the same LMDB transaction as
 * its state and source positions, then hands it to the sink driver, one
 * epoch (checkpoint) at a time, in epoch order per partition. A crash before
 * the sink has an epoch means the epoch is handed over again on restart,
 * with the same records: each carries a deterministic id
 * (`<partition>-<epoch>-<seq>`) and the key it was emitted with.
 *
 * A driver implements one of two contracts:
 *
 *   SinkDriver          idempotent per-epoch delivery: deliver(epoch) makes
 *                       the epoch's output visible, and delivering the same
 *                       (partition, epoch) again must not duplicate it (an
 *                       upsert by key or by record id, a file named by epoch)
 *   TwoPhaseSinkDriver  prepare, then commit per epoch: prepare(epoch) stages
 *                       the output where readers do not see it (a hidden temp
 *                       file, records in the actor's Kafka transaction);
 *                       commit(epochs) makes prepared epochs visible. Both
 *                       may run again for an epoch after a failure or a crash,
 *                       and must then leave one copy. The Kafka sink, the
 *                       Parquet sink and the runtime's own changelog are
 *                       two-phase.
 *
 * Errors: a driver only classifies them, it never retries. It throws a
 * SluiceError (engine/errors.ts, exported by `sluice`) with `retryable: true`
 * for a fault that may pass (a server down, a timeout, a conflict) and
 * `retryable: false` for one that cannot (bad credentials, a schema the
 * output does not fit): the runtime then fails the job at once. Anything else
 * thrown counts as retryable. Retryable failures are retried by the one
 * delivery policy of the runtime, with backoff, up to a time budget, every
 * retry logged (engine/runtime/delivery-policy.ts; `--sink-retry-for`,
 * `--sink-backoff-max`, `--stall-after`); then the job fails with one line
 * naming the sink, the partition and the cause.
 */

export interface SinkRecord {
  /** Deterministic record id: the same record gets the same id when redelivered. */
  readonly id: string;
  readonly key: string | null;
  readonly value: unknown;
  /** Event time, ms. */
  readonly time: number;
}

export interface SinkDelivery {
  readonly sinkId: string;
  readonly actorId: string;
  readonly partition: number;
  readonly epoch: number;
  readonly records: SinkRecord[];
}

export interface SinkContext {
  readonly job: string;
  readonly sinkId: string;
  readonly workerId: number;
  /** Engine settings, e.g. brokers and the state dir. */
  readonly runtime: RuntimeInfo;
}

export interface RuntimeInfo {
  readonly brokers: string[];
  readonly stateDir: string;
  readonly outputDir: string;
  readonly embedded: boolean;
  /** The application id (the consumer group, or the job name): names this deployment of the job. */
  readonly appId?: string;
  /** Bound on a sink's first connection to its server, ms (--connect-timeout; default 15 000). */
  readonly connectTimeoutMs?: number;
}

/** A record for Kafka, as a sink hands it to the actor's transactional producer. */
export interface KafkaOutputRecord {
  topic: string;
  /** When omitted, the default (Java-compatible murmur2) partitioner picks it from the key. */
  partition?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string>;
  /** Milliseconds since the epoch; defaults to now. */
  timestamp?: number;
}

/** What every driver has. One driver per sink per worker thread, shared by its partitions. */
export interface SinkDriverLifecycle {
  open(ctx: SinkContext): Promise<void>;
  /** Drains: every call in flight has settled. */
  close(): Promise<void>;
  /** Aborts, without waiting. */
  destroy?(err?: Error): void;
}

/** Idempotent per-epoch delivery. */
export interface SinkDriver extends SinkDriverLifecycle {
  /** Makes one epoch of one partition visible. Idempotent: delivering the same (partition, epoch) twice must not duplicate output. */
  deliver(delivery: SinkDelivery): Promise<void>;
}

/** One epoch of one partition, as commit() names it. */
export interface SinkEpoch {
  readonly actorId: string;
  readonly partition: number;
  readonly epoch: number;
}

/**
 * The partition actor's Kafka transaction, given to prepare() when the job
 * runs with brokers (every Kafka job, and an embedded one that writes Kafka).
 * Records added to it become visible to read_committed readers together with
 * the epoch's checkpoint marker and changelog, in one Kafka transaction that
 * the runtime commits once every other sink has the epoch; an epoch whose
 * marker Kafka already holds is not sent again. A sink that adds its output
 * here has nothing left to do in commit().
 */
export interface EpochTransaction {
  /** Adds records to the epoch's transaction; a prepare() run again for the epoch replaces what the last one added. */
  add(records: readonly KafkaOutputRecord[]): void;
}

/** Two-phase delivery: prepare, then commit per epoch. */
export interface TwoPhaseSinkDriver extends SinkDriverLifecycle {
  /**
   * Phase 1: stages one epoch of one partition where readers do not see it.
   * `txn` is the actor's Kafka transaction, when the job has one. May run
   * again for the same epoch (after a failed commit, or a crash): the new
   * staging replaces the old.
   */
  prepare(delivery: SinkDelivery, txn: EpochTransaction | undefined): Promise<void>;
  /**
   * Phase 2: makes prepared epochs visible: consecutive epochs of one
   * partition, in order, each prepared by this driver just before. The
   * runtime passes several when epochs queued up behind a slow commit, so
   * that a sink paying a fixed cost per commit (a Kafka transaction) pays it
   * once for all of them. Committing an epoch that is already visible must
   * leave it as it is.
   */
  commit(epochs: readonly SinkEpoch[]): Promise<void>;
}

/** Either contract. */
export type AnySinkDriver = SinkDriver | TwoPhaseSinkDriver;

/** Whether a driver is two-phase. */
export function isTwoPhase(d: AnySinkDriver): d is TwoPhaseSinkDriver {
  return typeof (d as Partial<TwoPhaseSinkDriver>).prepare === 'function' && typeof (d as Partial<TwoPhaseSinkDriver>).commit === 'function';
}

/** A sink as a job declares it. `D` says which contract its drivers implement. */
export interface SinkSpec<D extends AnySinkDriver = AnySinkDriver> {
  readonly kind: string;
  /**
   * The delivery guarantee, as documented to users. For example
   * "exactly-once (idempotent upsert by key)".
   */
  readonly guarantee: string;
  /**
   * Whether output goes through the durable outbox. Only sinks whose output
   * nobody reads (discard, for benchmarks) set false.
   */
  readonly outbox: boolean;
  /**
   * Forward event time through this sink: at each checkpoint where the
   * watermark of the inputs upstream of the sink advanced, the actor appends
   * one record (key null, value a WatermarkMarker) after the epoch's records.
   * The repartition sink sets it, so the next stage can take the minimum over
   * its upstream partitions, as Flink forwards watermarks through a shuffle.
   */
  readonly watermarks?: boolean;
  create(): D;
}

/** The value of a watermark record (see SinkSpec.watermarks): event time of the upstream actor's inputs, ms; +Infinity at their end. */
export interface WatermarkMarker {
  readonly '@sluice/watermark': number;
}

export function watermarkMarker(watermark: number): WatermarkMarker {
  return { '@sluice/watermark': watermark };
}

/** The watermark a record carries, or undefined for an ordinary record. */
export function markerWatermark(v: unknown): number | undefined {
  return v !== null && typeof v === 'object' ? (v as Partial<WatermarkMarker>)['@sluice/watermark'] : undefined;
}

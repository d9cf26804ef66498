/**
 * Sink declarations and the driver contract.
 *
 * Output reaches a sink only after the checkpoint that holds it is durable:
 * the partition actor writes it to its outbox in the same LMDB transaction as
 * its state and source positions, then hands it to the sink driver. A crash
 * before delivery finishes means the outbox entry is delivered again on
 * restart, so `deliver` must be idempotent: each record carries a
 * deterministic id (`<partition>-<epoch>-<seq>`) and the key it was emitted with.
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

/** One driver per sink per worker. `close()` drains; `destroy()` aborts. */
export interface SinkDriver {
  open(ctx: SinkContext): Promise<void>;
  /** Idempotent: delivering the same (actor, epoch) twice must not duplicate output. */
  deliver(delivery: SinkDelivery): Promise<void>;
  close(): Promise<void>;
  destroy?(err?: Error): void;
  /**
   * Optional, for sinks whose output is Kafka records. When the job runs with
   * brokers, the runtime does not call `deliver`: it takes these records and
   * commits them in the partition actor's own Kafka transaction, together
   * with the epoch's changelog and its checkpoint marker, and skips an epoch
   * whose marker Kafka already holds. Kafka output is then exactly-once for
   * read_committed readers, across crashes at any point.
   */
  kafkaRecords?(delivery: SinkDelivery): KafkaOutputRecord[];
  /**
   * Optional: several consecutive epochs of one actor in one call, which must
   * take effect atomically (all or none). The runtime uses it when epochs
   * queue up behind a slow delivery, so that a sink paying a fixed cost per
   * call (a Kafka transaction) pays it once for all of them. Each delivery
   * keeps its own epoch; they come in epoch order.
   */
  deliverEpochs?(deliveries: SinkDelivery[]): Promise<void>;
}

export interface SinkSpec {
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
  create(): SinkDriver;
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

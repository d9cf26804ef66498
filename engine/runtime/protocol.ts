/**
 * Typed messages between the main thread and a worker thread. Data moves in
 * batches (record-batch.ts); control messages carry a correlation id when the
 * sender awaits an answer. Errors cross as SerializedError (errors.ts).
 */
import type { Settings } from '../contracts/job.ts';
import type { MetricFamilyJson } from '../../metrics/families.ts';
import type { SerializedError } from '../errors.ts';
import type { DeliveryPolicyOptions, SinkStall } from './delivery-policy.ts';
import type { RecordBatchWire } from './record-batch.ts';

export interface RuntimeConfig {
  job: string;
  /**
   * Names the job's internal topics and transactional ids, as Kafka Streams'
   * application.id does: the --group-id if one is given, else the job name.
   */
  appId: string;
  stateDir: string;
  outputDir: string;
  brokers: string[];
  embedded: boolean;
  /**
   * Each actor commits its epochs to Kafka in its own transaction with a
   * checkpoint marker (changelog.ts): every Kafka job, and an embedded job
   * with brokers whose sinks write Kafka records.
   */
  epochTransactions: boolean;
  checkpointIntervalMs: number;
  cacheMaxEntries: number;
  /** An epoch closes at this many output records or dirty state entries (checkpoint-schedule.ts). */
  maxEpochRecords?: number;
  /** An actor is backpressured while its undelivered epochs hold this many records (checkpoint-schedule.ts). */
  maxUndeliveredRecords?: number;
  /** Old-generation heap limit of each worker thread, MiB (JobRunnerOptions.workerHeapMb); 0: V8's default. */
  workerHeapMb?: number;
  /** Records read per turn from an embedded source. */
  pullBatch: number;
  /** Retry budget, backoff and stall time of every sink's deliveries (delivery-policy.ts). */
  delivery?: DeliveryPolicyOptions;
  /** Workers keep Prometheus metrics (metrics/worker-metrics.ts) and answer {t:'metrics'}. */
  metrics?: boolean;
  /** Bound on a sink's first connection to its server, ms (--connect-timeout; default 15 000). */
  connectTimeoutMs?: number;
}

export interface WorkerInit {
  workerId: number;
  /** URL of the job module. */
  jobModule: string;
  settings: Settings;
  runtime: RuntimeConfig;
  /** Test hook: crash (process.exit) at a checkpoint phase, e.g. {point:'after-commit', afterCheckpoints: 3}. */
  crashAt?: { point: string; afterCheckpoints: number };
}

export interface ActorStats {
  actorId: string;
  /** Differs each time the actor is opened (its counters restart): totals fold the old ones in. */
  instance?: string;
  partition: number;
  recordsIn: number[];
  recordsOut: Record<string, number>;
  deadLetters: Record<string, number>;
  operatorCounts: Record<string, number>;
  checkpoints: number;
  lastCheckpointAt: number;
  lastCheckpointMs: number;
  lastCheckpointBytes: number;
  watermark: number;
  undeliveredEpochs: number;
  /** Records of the undelivered epochs, and the most there ever were (CheckpointSchedule). */
  undeliveredRecords: number;
  peakUndeliveredRecords: number;
  /** Checkpoints started because the epoch reached its bound, and the most records one epoch queued for delivery. */
  epochBoundCheckpoints: number;
  peakEpochRecords: number;
  stateKeys: number;
  stateBytes: number;
  /** State keys and bytes per operator: { operator: [keys, bytes] }. */
  stateByOperator?: Record<string, [number, number]>;
  cachedEntries: number;
  positions: Record<string, number>;
  finished: boolean;
  backpressured: boolean;
  /** Records sent along each pipeline node's outputs, by node id (`id#tag` for a side output): the edges' rates. */
  nodeOut?: Record<string, number>;
  /** The newest dead letters (oldest first), their values as JSON cut to DEAD_LETTER_VALUE_CHARS. */
  recentDeadLetters?: DeadLetterSample[];
  /** Sinks of this partition whose deliveries are failing right now (retrying). */
  stalls?: SinkStall[];
}

export interface DeadLetterSample {
  at: number;
  partition: number;
  operator: string;
  reason: string;
  error?: string;
  value: string;
}

export type ToWorker =
  | { t: 'open'; id: number; actorId: string; partition: number }
  | { t: 'batch'; actorId: string; input: number; wire: RecordBatchWire }
  /** A bounded run (--until end): input `input` of the actor reached its end offset; sent after its last batch. */
  | { t: 'end-input'; actorId: string; input: number }
  | { t: 'close'; id: number; actorId: string }
  | { t: 'checkpoint'; id: number; actorId: string }
  | { t: 'metrics'; id: number }
  | { t: 'shutdown'; id: number };

export type FromWorker =
  | { t: 'ready' }
  | { t: 'opened'; id: number; actorId: string; positions: Record<string, number> }
  | { t: 'closed'; id: number; actorId: string; positions: Record<string, number> }
  | { t: 'checkpointed'; id: number; actorId: string }
  /** `bytes`: the batch's wire size (record-batch.ts wireBytes), 0 for embedded sources. */
  | { t: 'processed'; actorId: string; records: number; bytes: number; backpressured: boolean }
  /** `backpressured`: whether the actor still is, now that this epoch is delivered. */
  | { t: 'delivered'; actorId: string; epoch: number; positions: Record<string, number>; backpressured: boolean }
  | { t: 'finished'; actorId: string }
  | { t: 'stats'; actors: ActorStats[] }
  | { t: 'metrics'; id: number; families: MetricFamilyJson[] }
  | { t: 'failed'; id?: number; actorId?: string; error: SerializedError; fatal: boolean }
  | { t: 'shutdown-done'; id: number };

/**
 * What a JobRunner is given (JobRunnerOptions), what it reports when it ends
 * (JobSummary), and the states of its lifecycle (JobState; the diagram and
 * the legal transitions are in job-runner.ts).
 */
import type { JobDefinition, Settings } from '../contracts/job.ts';
import type { DeliveryPolicyOptions } from './delivery-policy.ts';
import type { OffsetReset } from './kafka-input.ts';

export type JobState = 'CREATED' | 'STARTING' | 'RUNNING' | 'DRAINING' | 'STOPPED' | 'FAILED';



export interface JobRunnerOptions {
  jobModule: string;
  job: JobDefinition<Settings>;
  settings: Settings;
  workers?: number;
  brokers?: string[];
  stateDir?: string;
  outputDir?: string;
  checkpointIntervalMs?: number;
  cacheMaxEntries?: number;
  /** An epoch closes (a checkpoint starts) at this many output records or dirty state entries per actor (default EPOCH_BOUNDS, checkpoint-schedule.ts). */
  maxEpochRecords?: number;
  /** An actor's input pauses while its committed-but-undelivered epochs hold this many records (default EPOCH_BOUNDS). */
  maxUndeliveredRecords?: number;
  /**
   * Old-generation heap limit of each worker thread, MiB (V8's
   * maxOldGenerationSizeMb; default 0: V8's own, about a quarter of the
   * machine's memory). V8 lets a heap grow to several times its live data
   * before it collects; a limit makes it collect sooner. A worker whose live
   * data exceeds it dies (the job fails): see docs/engine.md, "Memory budget".
   */
  workerHeapMb?: number;
  /** Bytes posted to a worker and not yet processed, per partition, above which its Kafka input pauses (default MAX_INFLIGHT_BYTES, kafka-input.ts). */
  maxInflightBytes?: number;
  /**
   * A partition's Kafka inputs are kept within this many ms of each other in
   * record time: an input further ahead is not fetched until the others catch
   * up (default INPUT_ALIGNMENT_MS, 10 s; 0 turns it off). Steers fetching
   * only, never results (kafka-alignment.ts).
   */
  inputAlignmentMs?: number;
  groupId?: string;
  /** Kafka consumer session timeout: how soon a crashed process's partitions move (default 30 000, as Kafka's). */
  sessionTimeoutMs?: number;
  shutdownTimeoutMs?: number;
  /** Bound on reaching Kafka (and the sinks' servers) at start, ms (default 15 000). */
  connectTimeoutMs?: number;
  /** How the user named the job (a built-in name or a path), for messages that suggest a command. */
  jobArg?: string;
  /** A state directory with checkpoints but no identity.json: record this run's identity for it instead of refusing (state-identity.ts). */
  adoptState?: boolean;
  /** A checkpointed Kafka position the topic no longer holds: fail (default), or skip forward to the earliest or latest offset. */
  offsetReset?: OffsetReset;
  /** Retry budget, backoff and stall time of every sink's deliveries (delivery-policy.ts; defaults DELIVERY_DEFAULTS). */
  delivery?: DeliveryPolicyOptions;
  /** Serve /metrics and /healthz on this port (0: any free port) while the job runs; off when undefined. */
  metricsPort?: number;
  /** Interface for the metrics endpoint (default 127.0.0.1). */
  metricsHost?: string;
  /** Where warnings go (default stderr): a configuration that runs, but not as asked. */
  onWarning?: (message: string) => void;
  /**
   * A bounded run of a Kafka job (`--until end`): every input is read up to
   * the end offsets taken at start, then its partition's event time goes to
   * the end (every window and event-time timer fires), and once every
   * partition is there the job drains (final checkpoint, output delivered)
   * and stops. One process: the partitions of other members are not awaited.
   */
  untilEnd?: boolean;
  /** Fault injection for crash tests: SIGKILL the process at this checkpoint phase (see worker-host.ts). */
  crashAt?: { point: string; afterCheckpoints: number };
}

export interface JobSummary {
  job: string;
  state: JobState;
  elapsedMs: number;
  recordsIn: number;
  recordsOut: Record<string, number>;
  deadLetters: Record<string, number>;
  operatorCounts: Record<string, number>;
  checkpoints: number;
  outputDir: string;
  stateDir: string;
}

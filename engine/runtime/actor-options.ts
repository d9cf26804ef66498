/**
 * What a partition actor (partition-actor.ts) is given and reports: its
 * options, the observer its metrics implement, its counters, the fault
 * points tests crash it at, and the tick period its worker drives it with.
 */
import type { PipelineNode } from '../contracts/pipeline.ts';
import type { AnySinkDriver, EpochTransaction } from '../contracts/sinks.ts';
import type { DeliveryPolicy } from './delivery-policy.ts';
import type { DeliveryObserver } from './delivery-queue.ts';
import type { ActorStore } from './store-contract.ts';
import type { DeadLetterRecord } from './dead-letter.ts';
import { recordCount } from './changelog-pack.ts';
import type { WatermarkInputSpec } from './watermark-tracker.ts';

/** Points between checkpoint phases where tests inject a crash. */
export type FaultPoint = 'after-prepare' | 'after-commit' | 'after-deliver' | 'after-ack';

export interface ActorInput {
  sourceId: string;
  /** The Kafka topic of a Kafka source (named in dead letters). */
  topic?: string;
  watermark: WatermarkInputSpec;
}

export interface ActorOptions {
  job: string;
  /** The application id (the consumer group, or the job name): dead letters name it. */
  group?: string;
  /** A dead letter's value is cut to this many bytes of JSON (setting `dlqMaxValueBytes`). */
  dlqMaxValueBytes?: number;
  actorId: string;
  partition: number;
  inputs: readonly ActorInput[];
  nodes: readonly PipelineNode[];
  store: ActorStore;
  /** Drivers for sinks that go through the outbox, by sink id (the dead-letter sink included). */
  sinks: ReadonlyMap<string, AnySinkDriver>;
  /** Sinks that skip the outbox (discard): output is counted and dropped. */
  directSinks?: ReadonlySet<string>;
  /** Sinks that forward event time (SinkSpec.watermarks): each checkpoint appends a watermark record when it advanced. */
  watermarkSinks?: ReadonlySet<string>;
  checkpointIntervalMs: number;
  /** Output records of an epoch at which it closes (checkpoint-schedule.ts; default EPOCH_BOUNDS). The store's dirty entries have the same bound (its maxDirtyEntries). */
  maxEpochRecords?: number;
  /** Records of committed-but-undelivered epochs at which the actor is backpressured (checkpoint-schedule.ts; default EPOCH_BOUNDS). */
  maxUndeliveredRecords?: number;
  /** Delivered epochs reported upward, with the positions they cover (for the group commit). */
  onDelivered?: (epoch: number, positions: Record<string, number>) => void;
  /** Retry, backoff and stall settings of deliveries (default: DELIVERY_DEFAULTS). */
  delivery?: DeliveryPolicy;
  /** The actor's Kafka transaction of an epoch, for two-phase sinks' prepare() (jobs with brokers; changelog.ts). */
  transaction?: (sinkId: string, epoch: number) => EpochTransaction;
  /** The actor's deliveries failed for good (a sink gave up): it must fail now, not at its next checkpoint. */
  onFailed?: (err: Error) => void;
  /** Snapshots of custom sources' own positions, stored in the checkpoint (see CustomSourceSpec). */
  snapshotSources?: () => Record<string, unknown> | undefined;
  /** Replicate every checkpoint's state changes to Kafka (changelog.ts): sinks must then hold CHANGELOG_SINK. */
  changelog?: boolean;
  /** Write a checkpoint marker per epoch to CHANGELOG_SINK (implied by `changelog`). */
  markers?: boolean;
  fault?: (point: FaultPoint) => void;
  now?: () => number;
  /** Metrics hooks (metrics/actor-metrics.ts); absent when metrics are off. */
  observer?: ActorObserver;
}

/** Optional instrumentation: called per batch, checkpoint or delivery, never per record. */
export interface ActorObserver extends DeliveryObserver {
  /** Records with event times `times` reached sink `sinkId` in `epoch`; a direct sink (no outbox) has them at once. */
  emitted(sinkId: string, epoch: number, times: readonly number[], direct: boolean): void;
  checkpointed(epoch: number, durationMs: number, bytes: number): void;
}

export interface ActorCounters {
  recordsIn: number[];
  skippedReplay: number;
  recordsOut: Map<string, number>;
  /** Dead letters by reason, counted once their epoch is delivered (they reached the dead-letter sink). */
  deadLetters: Map<string, number>;
  operatorCounts: Map<string, number>;
  checkpoints: number;
  lastCheckpointAt: number;
  lastCheckpointMs: number;
  lastCheckpointBytes: number;
  /** Checkpoints started because the open epoch reached its bound (maxEpochRecords), not by the interval. */
  epochBoundCheckpoints: number;
  /** The most records one epoch put in the delivery queue: output, dead letters and changelog records (the marker included). */
  peakEpochRecords: number;
  /** The newest dead-letter records (at most RECENT_DEAD_LETTERS, oldest first), for the status page. */
  recentDeadLetters: DeadLetterRecord[];
}

/** An actor's counters before anything happened. */
export function newActorCounters(inputs: number): ActorCounters {
  return {
    recordsIn: Array.from({ length: inputs }, () => 0),
    skippedReplay: 0,
    recordsOut: new Map(),
    deadLetters: new Map(),
    operatorCounts: new Map(),
    checkpoints: 0,
    lastCheckpointAt: 0,
    lastCheckpointMs: 0,
    lastCheckpointBytes: 0,
    epochBoundCheckpoints: 0,
    peakEpochRecords: 0,
    recentDeadLetters: [],
  };
}

/** Counts a committed checkpoint: its time, its bytes, and the records its epoch queued for delivery (`entries`). */
export function countCheckpoint(c: ActorCounters, started: number, finished: number, bytes: number, entries: ReadonlyArray<{ sinkId: string; records: readonly unknown[] }>): void {
  c.checkpoints++;
  c.lastCheckpointAt = finished;
  c.lastCheckpointMs = finished - started;
  c.lastCheckpointBytes = bytes;
  let records = 0;
  for (const e of entries) records += recordCount(e);
  if (records > c.peakEpochRecords) c.peakEpochRecords = records;
}

/** How many of the newest dead letters an actor keeps for the status page. */
export const RECENT_DEAD_LETTERS = 5;

/** What the actor writes to the dead-letter sink: see dead-letter.ts. */
export type { DeadLetterRecord } from './dead-letter.ts';

/**
 * How often a worker calls tick() on its actors. Checkpoints start only in a
 * tick, so the tick must be finer than the checkpoint interval: at most
 * 100 ms, at least 5 ms, half the interval in between.
 */
export function tickPeriodMs(checkpointIntervalMs: number): number {
  return Math.min(100, Math.max(5, Math.floor(checkpointIntervalMs / 2)));
}

/**
 * The test driver's public types (test-driver.ts): its options, the records
 * piped in, what comes out (dead letters) and what the driver records of
 * each arrival for a model of the job.
 */
import type { Settings } from '../contracts/job.ts';
import type { WatermarkSpec } from '../contracts/sources.ts';

/** Where a crash can cut a checkpoint (see PartitionActor): before it starts, after prepare, after the durable commit (before delivery), after delivery (before the ack is committed). */
export type CrashPoint = 'before-checkpoint' | 'after-prepare' | 'after-commit' | 'after-deliver';

export const CRASH_POINTS: readonly CrashPoint[] = ['before-checkpoint', 'after-prepare', 'after-commit', 'after-deliver'];

export interface TestDriverOptions<S extends Settings = Settings> {
  /** Overrides of the job's settings defaults. */
  settings?: Partial<S>;
  /** Partitions of the job's sources: one actor each. Default: the sources' own count if they declare one, else 1. */
  partitions?: number;
  /** Processing time at the start, ms. Default 0. */
  startTime?: number;
  /** Checkpoint when advanceTime() passes this interval, as a worker's ticks would. Default: only when checkpoint() is called. */
  checkpointIntervalMs?: number;
  /** Keyed-state cache entries per actor (a checkpoint is forced when more are dirty). Default 100 000. */
  cacheMaxEntries?: number;
  /** State directory. Default: a fresh temporary directory, removed by close(). */
  stateDir?: string;
}

/** One record to pipe in. */
export interface TestRecord<T = unknown> {
  value: T;
  /** Kafka-style key: picks the partition (Kafka's default partitioner) unless `partition` is given. */
  key?: string;
  /** The record's timestamp, ms: its event time unless the source has a `timestamp` extractor. Default: the driver's processing time. */
  time?: number;
  partition?: number;
}

/** What the dead-letter destination receives (PartitionActor.deadLetter). */
export interface DeadLetter<T = unknown> {
  job: string;
  partition: number;
  operator: string;
  source?: string;
  reason: string;
  error?: { code?: string; name: string; message: string };
  value: T;
  at: number;
}

/** A record as the job first received it (TestDriver.arrivals): what a model of the job needs to know about it. */
export interface Arrival<T = unknown> {
  source: string;
  value: T;
  key: string | undefined;
  partition: number;
  offset: number;
  /** Its event time as the engine saw it (the source's `timestamp` extractor, or the record's own time). */
  time: number;
  /** The partition's watermark when it arrived: the engine treats records behind it as late. */
  watermark: number;
  /** Whether the source's `validate` accepts it (a rejected record is a dead letter). */
  valid: boolean;
}

/** Options of a driver for one pipeline rather than a job: its sources' event-time settings. */
export interface PipelineSourceOptions {
  watermark?: WatermarkSpec;
  timestamp?(value: unknown): number;
  validate?(value: unknown): string | undefined;
}

/**
 * What window operators emit, and the options they share.
 *
 * Time model (the runtime's, see engine/runtime/watermark-tracker.ts): the
 * watermark W promises that no record with event time < W is still to come
 * (W = largest event time seen - the source's out-of-orderness bound).
 * A window [start, end) is complete once W >= end: it fires then, through an
 * event-time timer at `end`, and is emitted with kind `on-time`.
 *
 * Lateness: a record for a window that already fired is late. Within
 * `allowedLatenessMs` (end + allowedLateness > W) it still counts: the window
 * is emitted again at the end of the batch, kind `late`, with the updated
 * result (so downstream must treat window results as upserts by key and
 * window). Beyond it the record belongs to no window: it is counted
 * (`late_records`) and sent to the side output `lateTag` (default "late"),
 * never silently dropped. State of a window is deleted by timer once
 * end + allowedLateness has passed.
 *
 * Early results: with `early: { intervalMs }`, open windows changed since
 * their last emission are emitted with kind `early` at the first checkpoint
 * after each interval (processing time), for dashboards that cannot wait for
 * the window to close. The on-time emission follows as usual.
 */
import type { Key } from '../../contracts/operator.ts';
import type { Aggregator } from './aggregators.ts';

export type EmissionKind = 'early' | 'on-time' | 'late';

export interface WindowResult<R> {
  readonly key: Key;
  /** Inclusive, ms. For a session: its first record's time. */
  readonly start: number;
  /** Exclusive, ms. For a session: its last record's time + the gap. */
  readonly end: number;
  readonly result: R;
  readonly kind: EmissionKind;
}

export interface WindowOptions<I, A, R> {
  aggregate: Aggregator<I, A, R>;
  /** How long after a window fired late records still update it. Default 0. */
  allowedLatenessMs?: number;
  /** Emit partial results of open windows at checkpoints, at most once per interval. */
  early?: { intervalMs: number };
  /** Side-output tag for records too late for any window. Default "late". */
  lateTag?: string;
}

export interface ResolvedWindowOptions<I, A, R> {
  aggregate: Aggregator<I, A, R>;
  lateness: number;
  earlyMs: number | undefined;
  lateTag: string;
}

export function resolveOptions<I, A, R>(o: WindowOptions<I, A, R>, what: string): ResolvedWindowOptions<I, A, R> {
  const lateness = o.allowedLatenessMs ?? 0;
  if (!(lateness >= 0) || !Number.isFinite(lateness)) throw new RangeError(`${what}: allowedLatenessMs must be a finite number >= 0, got ${lateness}`);
  const earlyMs = o.early?.intervalMs;
  if (earlyMs !== undefined && !(earlyMs >= 0)) throw new RangeError(`${what}: early.intervalMs must be >= 0, got ${earlyMs}`);
  return { aggregate: o.aggregate, lateness, earlyMs, lateTag: o.lateTag ?? 'late' };
}

/** Timer tags: one operator's timers are told apart by tag. */
export const FIRE = 'fire';
export const GC = 'gc';

/** A key's string form for in-memory maps (1 and "1" are distinct state keys). */
export function keyId(k: Key): string {
  return typeof k === 'number' ? `n${k}` : `s${k}`;
}

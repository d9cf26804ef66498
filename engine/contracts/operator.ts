/**
 * The operator contract, after Arroyo's: one required method, `process(batch)`,
 * and hooks that do nothing unless overridden. An operator instance lives in
 * exactly one partition actor, so it never needs locks; its keyed state is
 * scoped to (operator, partition) by the runtime.
 *
 * Records travel as batches of parallel arrays (values, event times, keys)
 * rather than one envelope object per record: the hot path allocates per
 * batch, not per record.
 */

export type Key = string | number;

export interface Batch<T = unknown> {
  /** Which input this batch arrived on (0 for single-input operators). */
  readonly input: number;
  readonly values: T[];
  /** Event time of each record, in ms since the epoch. */
  readonly times: number[];
  /** The key of each record, once a keyBy has run upstream; otherwise undefined. */
  readonly keys: Key[] | undefined;
}

export type TimerKind = 'event' | 'processing';

export interface Timer {
  readonly kind: TimerKind;
  readonly ts: number;
  readonly key: Key;
  readonly tag?: string;
}

/** Keyed single-value state. Reads hit an in-memory cache first; writes reach LMDB once per checkpoint. */
export interface ValueState<T> {
  get(key: Key): T | undefined;
  put(key: Key, value: T): void;
  delete(key: Key): void;
}

/** Keyed map state: per key, a sorted map of fields to values. */
export interface MapState<V> {
  get(key: Key, field: Key): V | undefined;
  put(key: Key, field: Key, value: V): void;
  delete(key: Key, field: Key): void;
  entries(key: Key): Array<[Key, V]>;
  keys(key: Key): Key[];
  clear(key: Key): void;
}

/** Timers kept in checkpointed state: they survive restarts and fire in (time, key) order. */
export interface TimerControl {
  registerEventTime(key: Key, ts: number, tag?: string): void;
  registerProcessingTime(key: Key, ts: number, tag?: string): void;
  deleteEventTime(key: Key, ts: number, tag?: string): void;
  deleteProcessingTime(key: Key, ts: number, tag?: string): void;
}

export interface OperatorContext<O = unknown> {
  readonly job: string;
  readonly operatorId: string;
  readonly partition: number;
  /** Sends a record downstream. `key` carries the record's key to keyed operators downstream. */
  emit(value: O, time: number, key?: Key): void;
  /** Sends a record to a named side output (for instance late events). */
  sideOutput(tag: string, value: unknown, time: number): void;
  /** Sends a record to the job's dead-letter destination with a reason; processing goes on. */
  deadLetter(value: unknown, reason: string, error?: unknown): void;
  valueState<T>(name: string): ValueState<T>;
  mapState<V>(name: string): MapState<V>;
  readonly timers: TimerControl;
  /** The actor's current event-time watermark (-Infinity before the first one). */
  watermark(): number;
  /** Processing time, ms. */
  now(): number;
  /** Adds `n` to a named counter of this operator (exported as a metric). */
  count(name: string, n?: number): void;
}

export abstract class Operator<I = unknown, O = unknown> {
  /** Handles one batch. Emit output through `ctx.emit`. */
  abstract process(batch: Batch<I>, ctx: OperatorContext<O>): void;
  /** Called once when the actor starts, after state is open (on a restart: restored). */
  onStart(_ctx: OperatorContext<O>): void {}
  /** Called when the actor's event-time watermark advances, after due event-time timers fired. */
  onWatermark(_watermark: number, _ctx: OperatorContext<O>): void {}
  /** Called for each due timer this operator registered. */
  onTimer(_timer: Timer, _ctx: OperatorContext<O>): void {}
  /** Called before each checkpoint; anything emitted here is part of that checkpoint. */
  onCheckpoint(_epoch: number, _ctx: OperatorContext<O>): void {}
  /** Called when the actor closes cleanly (revoke or shutdown). */
  onClose(_ctx: OperatorContext<O>): void {}
}

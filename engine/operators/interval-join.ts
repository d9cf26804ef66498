/**
 * A keyed interval join of two streams, after Flink's interval join, with
 * inner, left-outer and full-outer modes.
 *
 * Input 0 is the left stream, input 1 the right one (`b.connect(left,
 * right).process(new IntervalJoin(...), name)`); both must be keyed upstream
 * (keyBy) by the join key. A left record L (event time tl) and a right record
 * R (event time tr) of the same key join when
 *
 *     tl + lowerBoundMs <= tr <= tl + upperBoundMs.
 *
 * Each side is buffered per key in keyed LMDB state. A buffered left record
 * can match no right record once the watermark passes tl + upperBoundMs, a
 * right record none once it passes tr - lowerBoundMs; `graceMs` keeps both a
 * while longer. An event-time timer per record removes it then, and in outer
 * modes emits it unmatched if it never joined (left-outer: left records;
 * full-outer: both sides).
 *
 * Lateness: a record whose time is below (watermark - graceMs) when it
 * arrives is late. It is not joined; it goes to side output `late-left` or
 * `late-right` and is counted. This rule is what makes the output a function
 * of the non-late records alone, whatever the arrival order: a non-late record
 * always finds every partner that can match it still buffered, because a
 * partner is only dropped once the watermark has passed the partner's bound,
 * and any record that could still match it would then be late. An unmatched
 * row is emitted only when no non-late partner can arrive any more.
 *
 * A record already past its bound when it arrives (possible with a negative
 * upper or a positive lower bound) is matched against what is buffered and
 * not kept; in an outer mode it is emitted unmatched right away if it found
 * no partner.
 *
 * `uniqueLeft`: at most one left record per key is buffered. A left record
 * arriving while another of its key is buffered is a duplicate: dropped,
 * counted, and sent to side output `duplicate`. The first one to arrive wins.
 *
 * State per key (ValueState, one array per side; keys rarely hold more than a
 * few records, so a scan beats a field-per-record map here):
 *
 *   `left`   Array<[time, matched 0|1, value]>
 *   `right`  Array<[time, matched 0|1, value]>
 *
 * Timers: a record's bound is tl + upperBoundMs + graceMs (left) or
 * tr - lowerBoundMs + graceMs (right); it is evicted once the watermark
 * passes floor(bound) + 1. By default keys share timers by time bucket
 * (`timerBucketMs`, 1 s): one event-time timer per bucket and side, key = the
 * bucket's end, tag `BL` or `BR`, and per bucket a list of the keys to
 * check then (due-buckets.ts: one state entry per bucket, not per key, so
 * scheduling costs no changelog record per record). A
 * timer is an object in memory for as long as it is registered
 * (state/timer-service.ts), while bucket lists live in LMDB behind a bounded
 * cache: with 10 M unpaid orders, per-key timers meant ~4 GB of RSS and a
 * restart that reloads them all; buckets keep both bounded. Eviction is
 * at most one bucket later in event time, and exact: each key's records are
 * checked against the watermark. `timerBucketMs: 0` registers a timer per key
 * instead (tag `L` or `R`, key = the join key), which fires at the exact bound.
 * When a key's last record goes, its state entry is deleted: nothing is kept
 * for a key once its records have timed out.
 *
 * Output times: a joined row at max(tl, tr); an unmatched row at its record's
 * own time. Output keeps the key.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Operator, type Batch, type Key, type OperatorContext, type Timer, type ValueState } from '../contracts/operator.ts';
import { DueBuckets } from './due-buckets.ts';

export type JoinMode = 'inner' | 'left' | 'full';

export interface IntervalJoinOptions<L, R, O> {
  mode: JoinMode;
  lowerBoundMs: number;
  upperBoundMs: number;
  /** How far behind the watermark a record may arrive and still join. Default 0. */
  graceMs?: number;
  /** Keep at most one left record per key; later ones are duplicates. Default false. */
  uniqueLeft?: boolean;
  /** A joined row. */
  joined(left: L, right: R, leftTime: number, rightTime: number): O;
  /** The row for a left record that never joined (modes `left` and `full`). */
  leftOnly?(left: L, time: number): O;
  /** The row for a right record that never joined (mode `full`). */
  rightOnly?(right: R, time: number): O;
  /** Counter names (exported as `<operator>:<name>`). */
  counters?: { duplicates?: string; lateLeft?: string; lateRight?: string };
  /** Keys share eviction timers by buckets of this many ms of event time; 0: a timer per key. Default 1000. */
  timerBucketMs?: number;
}

/** A buffered record: [event time, matched (0 or 1), value]. */
type Entry<V> = [number, number, V];

export const JOIN_SIDE_OUTPUTS = { lateLeft: 'late-left', lateRight: 'late-right', duplicate: 'duplicate' } as const;

export class IntervalJoin<L, R, O> extends Operator<L | R, O> {
  private readonly lower: number;
  private readonly upper: number;
  private readonly grace: number;
  private readonly emitLeftOnly: boolean;
  private readonly emitRightOnly: boolean;
  private readonly names: { duplicates: string; lateLeft: string; lateRight: string };
  private readonly bucketMs: number;
  private left!: ValueState<Array<Entry<L>>>;
  private right!: ValueState<Array<Entry<R>>>;
  private readonly dueL = new DueBuckets('L');
  private readonly dueR = new DueBuckets('R');

  constructor(private readonly o: IntervalJoinOptions<L, R, O>) {
    super();
    const grace = o.graceMs ?? 0;
    for (const [name, v] of [['lowerBoundMs', o.lowerBoundMs], ['upperBoundMs', o.upperBoundMs], ['graceMs', grace]] as const) {
      if (!Number.isFinite(v)) throw new SluiceError(ErrorCodes.CONFIG, `interval join: ${name} must be a finite number, got ${v}`);
    }
    if (o.lowerBoundMs > o.upperBoundMs) {
      throw new SluiceError(ErrorCodes.CONFIG, `interval join: lowerBoundMs (${o.lowerBoundMs}) is above upperBoundMs (${o.upperBoundMs})`);
    }
    const bucketMs = o.timerBucketMs ?? 1000;
    if (!Number.isInteger(bucketMs) || bucketMs < 0) throw new SluiceError(ErrorCodes.CONFIG, `interval join: timerBucketMs must be an integer >= 0, got ${bucketMs}`);
    this.bucketMs = bucketMs;
    if (grace < 0) throw new SluiceError(ErrorCodes.CONFIG, `interval join: graceMs must be >= 0, got ${grace}`);
    if (o.mode !== 'inner' && !o.leftOnly) throw new SluiceError(ErrorCodes.CONFIG, `interval join: mode "${o.mode}" needs leftOnly()`);
    if (o.mode === 'full' && !o.rightOnly) throw new SluiceError(ErrorCodes.CONFIG, 'interval join: mode "full" needs rightOnly()');
    if (o.mode !== 'inner' && o.mode !== 'left' && o.mode !== 'full') {
      throw new SluiceError(ErrorCodes.CONFIG, `interval join: unknown mode "${String(o.mode)}" (inner, left or full)`);
    }
    this.lower = o.lowerBoundMs;
    this.upper = o.upperBoundMs;
    this.grace = grace;
    this.emitLeftOnly = o.mode !== 'inner';
    this.emitRightOnly = o.mode === 'full';
    this.names = {
      duplicates: o.counters?.duplicates ?? 'duplicate_left',
      lateLeft: o.counters?.lateLeft ?? 'late_left',
      lateRight: o.counters?.lateRight ?? 'late_right',
    };
  }

  override onStart(ctx: OperatorContext<O>): void {
    this.left = ctx.valueState<Array<Entry<L>>>('left');
    this.right = ctx.valueState<Array<Entry<R>>>('right');
    this.dueL.start(ctx as OperatorContext<unknown>);
    this.dueR.start(ctx as OperatorContext<unknown>);
  }

  /** Schedules the eviction check of `key`'s records on one side once the watermark passes `due`. */
  private schedule(side: 'L' | 'R', key: Key, due: number, ctx: OperatorContext<O>): void {
    if (this.bucketMs === 0) {
      ctx.timers.registerEventTime(key, due, side);
      return;
    }
    const b = this.bucketMs;
    // `+ 0` turns -0 (a bucket ending at 0 from below) into 0: LMDB keys would not round-trip it.
    const end = Math.ceil(due / b) * b + 0;
    // The timer is registered with the bucket's first key.
    if ((side === 'L' ? this.dueL : this.dueR).add(end, key)) ctx.timers.registerEventTime(end, end, side === 'L' ? 'BL' : 'BR');
  }

  process(batch: Batch<L | R>, ctx: OperatorContext<O>): void {
    const { values, times, keys } = batch;
    if (keys === undefined) {
      throw new SluiceError(ErrorCodes.CONFIG, `${ctx.operatorId}: an interval join needs both inputs keyed (keyBy upstream)`);
    }
    const wm = ctx.watermark();
    // Records below this arrive after their partners may have been evicted.
    const lateBelow = wm - this.grace;
    if (batch.input === 0) {
      for (let i = 0; i < values.length; i++) {
        if (times[i] < lateBelow) {
          ctx.count(this.names.lateLeft);
          ctx.sideOutput(JOIN_SIDE_OUTPUTS.lateLeft, values[i], times[i]);
          continue;
        }
        this.onLeft(values[i] as L, keys[i], times[i], wm, ctx);
      }
    } else {
      for (let i = 0; i < values.length; i++) {
        if (times[i] < lateBelow) {
          ctx.count(this.names.lateRight);
          ctx.sideOutput(JOIN_SIDE_OUTPUTS.lateRight, values[i], times[i]);
          continue;
        }
        this.onRight(values[i] as R, keys[i], times[i], wm, ctx);
      }
    }
  }

  private onLeft(value: L, key: Key, t: number, wm: number, ctx: OperatorContext<O>): void {
    // With bucketed timers a record may outlive its bound until its bucket fires: drop such
    // records of this key now, as a per-key timer would already have, so that a duplicate is
    // only ever judged against a live order. (An expired record can join nothing: any partner
    // it could still match would be late.)
    // evict() hands back what it kept: one state read for both.
    const buffered =
      this.bucketMs > 0 && this.o.uniqueLeft
        ? this.evict(this.left, key, this.upper + this.grace, wm, this.emitLeftOnly ? this.o.leftOnly : undefined, ctx)
        : this.left.get(key);
    if (this.o.uniqueLeft && buffered !== undefined && buffered.length > 0) {
      ctx.count(this.names.duplicates);
      ctx.sideOutput(JOIN_SIDE_OUTPUTS.duplicate, value, t);
      return;
    }
    let matched = 0;
    const rights = this.right.get(key);
    if (rights !== undefined) {
      const from = t + this.lower;
      const to = t + this.upper;
      let rightChanged = false;
      for (let j = 0; j < rights.length; j++) {
        const r = rights[j];
        if (r[0] < from || r[0] > to) continue;
        if (!this.emitJoined(value, r[2], t, r[0], key, ctx)) continue;
        matched = 1;
        // The flag only matters where unmatched rights are emitted; elsewhere leave the state untouched.
        if (this.emitRightOnly && r[1] === 0) {
          r[1] = 1;
          rightChanged = true;
        }
      }
      if (rightChanged) this.right.put(key, rights);
    }
    const bound = t + this.upper + this.grace;
    if (bound < wm) {
      // Already past its bound (a negative upper bound): no later right record can match it.
      if (matched === 0 && this.emitLeftOnly) this.emitUnmatched(this.o.leftOnly!, value, t, key, ctx);
      return;
    }
    const entry: Entry<L> = [t, matched, value];
    if (buffered === undefined) this.left.put(key, [entry]);
    else {
      buffered.push(entry);
      this.left.put(key, buffered);
    }
    this.schedule('L', key, Math.floor(bound) + 1, ctx);
  }

  private onRight(value: R, key: Key, t: number, wm: number, ctx: OperatorContext<O>): void {
    let matched = 0;
    const lefts = this.left.get(key);
    if (lefts !== undefined) {
      const from = t - this.upper;
      const to = t - this.lower;
      let leftChanged = false;
      for (let j = 0; j < lefts.length; j++) {
        const l = lefts[j];
        if (l[0] < from || l[0] > to) continue;
        if (!this.emitJoined(l[2], value, l[0], t, key, ctx)) continue;
        matched = 1;
        if (this.emitLeftOnly && l[1] === 0) {
          l[1] = 1;
          leftChanged = true;
        }
      }
      if (leftChanged) this.left.put(key, lefts);
    }
    const bound = t - this.lower + this.grace;
    if (bound < wm) {
      // Already past its bound (a positive lower bound): no later left record can match it.
      if (matched === 0 && this.emitRightOnly) this.emitUnmatched(this.o.rightOnly!, value, t, key, ctx);
      return;
    }
    const entry: Entry<R> = [t, matched, value];
    const buffered = this.right.get(key);
    if (buffered === undefined) this.right.put(key, [entry]);
    else {
      buffered.push(entry);
      this.right.put(key, buffered);
    }
    this.schedule('R', key, Math.floor(bound) + 1, ctx);
  }

  /** Emits one joined row; a throwing `joined` dead-letters the pair and counts as no match. */
  private emitJoined(l: L, r: R, tl: number, tr: number, key: Key, ctx: OperatorContext<O>): boolean {
    let out: O;
    try {
      out = this.o.joined(l, r, tl, tr);
    } catch (err) {
      ctx.deadLetter({ left: l, right: r }, 'process_error', err);
      return false;
    }
    ctx.emit(out, tl > tr ? tl : tr, key);
    return true;
  }

  private emitUnmatched<V>(fn: (v: V, t: number) => O, value: V, t: number, key: Key, ctx: OperatorContext<O>): void {
    let out: O;
    try {
      out = fn(value, t);
    } catch (err) {
      ctx.deadLetter(value, 'process_error', err);
      return;
    }
    ctx.emit(out, t, key);
  }

  override onTimer(timer: Timer, ctx: OperatorContext<O>): void {
    if (timer.kind !== 'event') return;
    const wm = ctx.watermark();
    const leftOnly = this.emitLeftOnly ? this.o.leftOnly : undefined;
    const rightOnly = this.emitRightOnly ? this.o.rightOnly : undefined;
    switch (timer.tag) {
      case 'L':
        this.evict(this.left, timer.key, this.upper + this.grace, wm, leftOnly, ctx);
        return;
      case 'R':
        this.evict(this.right, timer.key, -this.lower + this.grace, wm, rightOnly, ctx);
        return;
      case 'BL':
        for (const k of this.dueL.take(timer.key as number)) this.evict(this.left, k, this.upper + this.grace, wm, leftOnly, ctx);
        return;
      case 'BR':
        for (const k of this.dueR.take(timer.key as number)) this.evict(this.right, k, -this.lower + this.grace, wm, rightOnly, ctx);
        return;
    }
  }

  /**
   * Drops the key's records whose bound (time + span) is below the watermark; emits the
   * unmatched ones if asked. Returns the records kept (undefined: none, the key's state is gone).
   */
  private evict<V>(
    state: ValueState<Array<Entry<V>>>,
    key: Key,
    span: number,
    wm: number,
    unmatched: ((v: V, t: number) => O) | undefined,
    ctx: OperatorContext<O>,
  ): Array<Entry<V>> | undefined {
    const entries = state.get(key);
    if (entries === undefined) return undefined;
    let kept = 0;
    for (let j = 0; j < entries.length; j++) {
      const e = entries[j];
      if (e[0] + span >= wm) {
        entries[kept++] = e;
        continue;
      }
      if (unmatched !== undefined && e[1] === 0) this.emitUnmatched(unmatched, e[2], e[0], key, ctx);
    }
    if (kept === entries.length) return entries;
    if (kept === 0) {
      state.delete(key);
      return undefined;
    }
    entries.length = kept;
    state.put(key, entries);
    return entries;
  }
}

/**
 * Tumbling and hopping (sliding) event-time windows over keyed records, with
 * panes, so that a record costs one state update however many windows
 * contain it.
 *
 * Windows have length `size` and start every `slide` ms (tumbling: slide =
 * size), aligned to the epoch plus `offset`: [k*slide + offset, ... + size).
 * Time is cut into panes of gcd(size, slide) ms; every window is a whole
 * number of panes. A record is folded into its one pane; a window's result is
 * the merge of its panes, computed when it fires (Li et al., "No pane, no
 * gain", 2005). For 1-hour windows sliding by 1 minute that is 1 update per
 * record instead of 60, and 60 pane merges per window per key at firing.
 *
 * State (keyed LMDB state of this operator):
 *   mapState "panes"   key -> pane start -> accumulator
 *   valueState "watermark" (see window-base.ts)
 * Timers (event time, per key):
 *   "fire" at a window end: emits that window, then registers the next window
 *          end if a pane of the key falls in it. A new pane registers the
 *          first window end after the watermark that contains it. So a key
 *          has at most a few pending timers, not one per window.
 *   "gc"   at a pane's last window end + allowed lateness (only when
 *          lateness > 0): deletes panes no window can need any more. With no
 *          lateness, panes are deleted as their last window fires.
 */
import type { Key, OperatorContext, Timer } from '../../contracts/operator.ts';
import { WindowOperatorBase, type PendingWindow } from './window-base.ts';
import { FIRE, GC, keyId, type EmissionKind, type WindowOptions, type WindowResult } from './window-types.ts';

export interface PaneWindowSpec {
  sizeMs: number;
  slideMs: number;
  offsetMs?: number;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

export class PaneWindowOperator<I, A, R> extends WindowOperatorBase<I, A, R> {
  readonly size: number;
  readonly slide: number;
  readonly offset: number;
  readonly pane: number;

  constructor(spec: PaneWindowSpec, o: WindowOptions<I, A, R>) {
    super(o, 'window');
    const { sizeMs, slideMs } = spec;
    this.offset = spec.offsetMs ?? 0;
    if (!Number.isSafeInteger(sizeMs) || sizeMs <= 0) throw new RangeError(`window: size must be a positive integer (ms), got ${sizeMs}`);
    if (!Number.isSafeInteger(slideMs) || slideMs <= 0 || slideMs > sizeMs) {
      throw new RangeError(`window: slide must be a positive integer <= size (ms), got ${slideMs} for size ${sizeMs}`);
    }
    if (!Number.isSafeInteger(this.offset)) throw new RangeError(`window: offset must be an integer (ms), got ${this.offset}`);
    this.size = sizeMs;
    this.slide = slideMs;
    this.pane = gcd(sizeMs, slideMs);
  }

  // ---- window arithmetic ---------------------------------------------------

  paneStart(t: number): number {
    return Math.floor((t - this.offset) / this.pane) * this.pane + this.offset;
  }

  /** The largest window end <= x. */
  private endAtOrBefore(x: number): number {
    return Math.floor((x - this.offset) / this.slide) * this.slide + this.offset;
  }

  /** The smallest window end >= x. */
  private endAtOrAfter(x: number): number {
    return Math.ceil((x - this.offset) / this.slide) * this.slide + this.offset;
  }

  /** The last window (by end) containing the pane starting at ps. */
  lastEnd(ps: number): number {
    return this.endAtOrBefore(ps + this.size);
  }

  /** The first window (by end) containing the pane starting at ps. */
  firstEnd(ps: number): number {
    return this.endAtOrAfter(ps + this.pane);
  }

  // ---- records ---------------------------------------------------------------

  protected add(key: Key, value: I, time: number, wm: number, ctx: OperatorContext<WindowResult<R>>): boolean {
    const ps = this.paneStart(time);
    const last = this.lastEnd(ps);
    const L = this.opts.lateness;
    if (last + L <= wm) return this.late(value, time, ctx);
    const panes = ctx.mapState<A>('panes');
    const agg = this.opts.aggregate;
    let acc = panes.get(key, ps);
    const fresh = acc === undefined;
    if (fresh) acc = agg.create();
    panes.put(key, ps, agg.add(acc as A, value, time));
    const first = this.firstEnd(ps);
    if (fresh) {
      // The first window containing this pane that has not fired yet; the fire chain takes it from there.
      const e0 = Math.max(first, Number.isFinite(wm) ? this.endAtOrBefore(wm) + this.slide : first);
      if (e0 <= last) ctx.timers.registerEventTime(key, e0, FIRE);
      if (L > 0) ctx.timers.registerEventTime(key, last + L, GC);
    }
    if (first <= wm) {
      // Windows that already fired but are within the allowed lateness get emitted again.
      for (let e = Math.max(first, this.endAtOrAfter(Math.floor(wm - L) + 1)); e <= last && e <= wm; e += this.slide) {
        this.lateDirty.set(`${keyId(key)}@${e}`, { key, at: e });
      }
    }
    return true;
  }

  // ---- timers ----------------------------------------------------------------

  override onTimer(t: Timer, ctx: OperatorContext<WindowResult<R>>): void {
    const panes = ctx.mapState<A>('panes');
    if (t.tag === GC) {
      // By the timer's time, not the watermark: after a jump, panes of windows
      // that have yet to fire (their timers come later in this round) must stay.
      for (const ps of panes.keys(t.key) as number[]) if (this.lastEnd(ps) + this.opts.lateness <= t.ts) panes.delete(t.key, ps);
      return;
    }
    if (t.tag !== FIRE) return;
    const e = t.ts;
    const entries = panes.entries(t.key) as Array<[number, A]>;
    this.emitWindow(t.key, e, entries, 'on-time', ctx);
    // Chain to the next window if any pane of this key falls into it.
    const next = e + this.slide;
    if (entries.some(([ps]) => ps >= next - this.size && ps < next)) ctx.timers.registerEventTime(t.key, next, FIRE);
    if (this.opts.lateness === 0) {
      for (const [ps] of entries) if (this.lastEnd(ps) <= e) panes.delete(t.key, ps);
    }
  }

  /** Merges the panes of window [end - size, end) and emits it; false if it has none. */
  private emitWindow(key: Key, end: number, entries: Array<[number, A]>, kind: EmissionKind, ctx: OperatorContext<WindowResult<R>>): boolean {
    const start = end - this.size;
    const agg = this.opts.aggregate;
    let acc: A | undefined;
    for (const [ps, pa] of entries) {
      if (ps < start || ps >= end) continue;
      acc = agg.merge(acc ?? agg.create(), pa);
    }
    if (acc === undefined) return false;
    this.emit(key, start, end, acc, kind, ctx);
    return true;
  }

  protected emitPending(p: PendingWindow, kind: EmissionKind, ctx: OperatorContext<WindowResult<R>>): void {
    this.emitWindow(p.key, p.at, ctx.mapState<A>('panes').entries(p.key) as Array<[number, A]>, kind, ctx);
  }

  protected emitOpen(key: Key, wm: number, ctx: OperatorContext<WindowResult<R>>): void {
    const entries = ctx.mapState<A>('panes').entries(key) as Array<[number, A]>;
    if (entries.length === 0) return;
    const from = Math.max(this.firstEnd(entries[0][0]), Number.isFinite(wm) ? this.endAtOrBefore(wm) + this.slide : -Infinity);
    const to = this.lastEnd(entries[entries.length - 1][0]);
    for (let e = from; e <= to; e += this.slide) this.emitWindow(key, e, entries, 'early', ctx);
  }
}

/** Tumbling windows: fixed, non-overlapping, `sizeMs` long. */
export function tumblingWindow<I, A, R>(o: WindowOptions<I, A, R> & { sizeMs: number; offsetMs?: number }): PaneWindowOperator<I, A, R> {
  return new PaneWindowOperator({ sizeMs: o.sizeMs, slideMs: o.sizeMs, offsetMs: o.offsetMs }, o);
}

/** Hopping windows: `sizeMs` long, one starting every `slideMs`; a record is in size/slide of them. */
export function hoppingWindow<I, A, R>(o: WindowOptions<I, A, R> & { sizeMs: number; slideMs: number; offsetMs?: number }): PaneWindowOperator<I, A, R> {
  return new PaneWindowOperator({ sizeMs: o.sizeMs, slideMs: o.slideMs, offsetMs: o.offsetMs }, o);
}

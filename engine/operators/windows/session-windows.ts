/**
 * Session windows: per key, records closer than `gapMs` to each other form
 * one session, [first record's time, last record's time + gap). A record at
 * exactly last + gap starts a new session (the gap of inactivity has passed).
 * Out-of-order records merge sessions: a record that falls between two
 * sessions and overlaps both turns them into one.
 *
 * State (keyed, this operator):
 *   valueState "sessions"  key -> sessions of the key, sorted by start:
 *                          [start, end, accumulator][]
 *   valueState "watermark" (see window-base.ts)
 * A key rarely has more than a couple of sessions alive at once, so one value
 * per key (read from the cache, written back at the checkpoint) beats a map
 * state range scan per record.
 * Timers (event time, per key): "fire" at each session's end (moved when a
 * session grows or merges); "gc" at end + allowed lateness when lateness > 0.
 *
 * Lateness: a record is late when the session it would make, after merging
 * with the sessions still kept, ends at or before watermark - lateness. A
 * record that extends a session which already fired re-opens it: if its new
 * end is past the watermark it fires again on time, else it is emitted again
 * at once as `late`.
 */
import type { Key, OperatorContext, Timer } from '../../contracts/operator.ts';
import { WindowOperatorBase, type PendingWindow } from './window-base.ts';
import { FIRE, GC, keyId, type EmissionKind, type WindowOptions, type WindowResult } from './window-types.ts';

/** [start, end, accumulator]: a tuple, so msgpack stores no field names. */
type Session<A> = [number, number, A];

export class SessionWindowOperator<I, A, R> extends WindowOperatorBase<I, A, R> {
  readonly gap: number;

  constructor(gapMs: number, o: WindowOptions<I, A, R>) {
    super(o, 'session window');
    if (!Number.isSafeInteger(gapMs) || gapMs <= 0) throw new RangeError(`session window: gap must be a positive integer (ms), got ${gapMs}`);
    this.gap = gapMs;
  }

  protected add(key: Key, value: I, time: number, wm: number, ctx: OperatorContext<WindowResult<R>>): boolean {
    const state = ctx.valueState<Array<Session<A>>>('sessions');
    const sessions = state.get(key) ?? [];
    const L = this.opts.lateness;
    let start = time;
    let end = time + this.gap;
    // Sessions overlapping [time, time + gap) merge with it.
    let lo = -1;
    let hi = -1;
    for (let i = 0; i < sessions.length; i++) {
      const s = sessions[i];
      if (s[0] < time + this.gap && time < s[1]) {
        if (lo < 0) lo = i;
        hi = i;
        if (s[0] < start) start = s[0];
        if (s[1] > end) end = s[1];
      }
    }
    if (end + L <= wm) return this.late(value, time, ctx);
    const agg = this.opts.aggregate;
    let acc: A;
    if (lo < 0) acc = agg.create();
    else {
      acc = sessions[lo][2];
      for (let i = lo + 1; i <= hi; i++) acc = agg.merge(acc, sessions[i][2]);
    }
    acc = agg.add(acc, value, time);
    // Retire the merged sessions' timers; the merged one gets its own.
    for (let i = lo; i >= 0 && i <= hi; i++) {
      const s = sessions[i];
      if (s[1] !== end) ctx.timers.deleteEventTime(key, s[1], FIRE);
      if (L > 0 && s[1] !== end) ctx.timers.deleteEventTime(key, s[1] + L, GC);
    }
    // In place (the array is put back, as state handles require); the common
    // case, a record extending the key's latest session, allocates nothing.
    if (lo < 0) insertSorted(sessions, [start, end, acc]);
    else {
      const s = sessions[lo];
      s[0] = start;
      s[1] = end;
      s[2] = acc;
      if (hi > lo) sessions.splice(lo + 1, hi - lo);
    }
    state.put(key, sessions);
    if (end > wm) ctx.timers.registerEventTime(key, end, FIRE);
    else this.lateDirty.set(`${keyId(key)}@${start}`, { key, at: start });
    if (L > 0) ctx.timers.registerEventTime(key, end + L, GC);
    return true;
  }

  override onTimer(t: Timer, ctx: OperatorContext<WindowResult<R>>): void {
    const state = ctx.valueState<Array<Session<A>>>('sessions');
    const sessions = state.get(t.key);
    if (!sessions) return;
    if (t.tag === FIRE) {
      const s = sessions.find((x) => x[1] === t.ts);
      if (!s) return;
      this.emit(t.key, s[0], s[1], s[2], 'on-time', ctx);
      if (this.opts.lateness === 0) this.store(state, t.key, sessions.filter((x) => x !== s));
    } else if (t.tag === GC) {
      // By the timer's time, not the watermark (see pane-windows.ts).
      const keep = sessions.filter((x) => x[1] + this.opts.lateness > t.ts);
      if (keep.length !== sessions.length) this.store(state, t.key, keep);
    }
  }

  private store(state: { put(k: Key, v: Array<Session<A>>): void; delete(k: Key): void }, key: Key, sessions: Array<Session<A>>): void {
    if (sessions.length === 0) state.delete(key);
    else state.put(key, sessions);
  }

  protected emitPending(p: PendingWindow, kind: EmissionKind, ctx: OperatorContext<WindowResult<R>>): void {
    const s = ctx.valueState<Array<Session<A>>>('sessions').get(p.key)?.find((x) => x[0] === p.at);
    if (s) this.emit(p.key, s[0], s[1], s[2], kind, ctx);
  }

  protected emitOpen(key: Key, wm: number, ctx: OperatorContext<WindowResult<R>>): void {
    for (const s of ctx.valueState<Array<Session<A>>>('sessions').get(key) ?? []) {
      if (s[1] > wm) this.emit(key, s[0], s[1], s[2], 'early', ctx);
    }
  }
}

function insertSorted<A>(sessions: Array<Session<A>>, s: Session<A>): void {
  let i = 0;
  while (i < sessions.length && sessions[i][0] < s[0]) i++;
  sessions.splice(i, 0, s);
}

/** Session windows: per key, activity separated by at least `gapMs` of silence. */
export function sessionWindow<I, A, R>(o: WindowOptions<I, A, R> & { gapMs: number }): SessionWindowOperator<I, A, R> {
  return new SessionWindowOperator(o.gapMs, o);
}

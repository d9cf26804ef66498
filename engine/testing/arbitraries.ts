/**
 * fast-check arbitraries for the schedules that break stream jobs:
 *
 *   - out of order within the bound: each record arrives after every record
 *     more than `boundMs` older than it, and may overtake the others, so
 *     none is late (the watermark trails the newest time by the bound);
 *   - late records: some arrive up to `late.maxMs` past their bound;
 *   - duplicates: some arrive twice (a producer retry), the copy within the
 *     bound of the original;
 *   - checkpoints, crashes at any checkpoint phase, redeliveries by a
 *     re-fetching consumer, and processing time moving, at random points.
 *
 * The arrival order comes from a key per copy: its event time plus a delay
 * (a jitter below the bound, or for a late one a delay past it), sorted.
 * With jitter j < bound, a record r with time t arrives after any s whose
 * time + jitter exceeds t + j, so every record before r has time below
 * t + bound, and the watermark before r is at most t - 1: r is not late.
 */
import fc from 'fast-check';
import { CRASH_POINTS } from './driver-types.ts';
import type { InputRecord, ScheduleStep } from './schedule.ts';

export interface ScheduleOptions<T> {
  /** The event time of a record, as its job's source extracts it. Default: its `time` (0 when unset). */
  timeOf?: (r: InputRecord<T>) => number;
  /** Records may overtake each other by less than this (the sources' maxOutOfOrdernessMs). Default 0: event-time order. */
  boundMs?: number;
  /** A fraction `rate` (0..1) of records arrives late: 1..maxMs after its bound. Default none. */
  late?: { rate: number; maxMs: number };
  /** A fraction (0..1) of records arrives twice. Default 0. */
  duplicates?: number;
  /** At most this many checkpoints at random points. Default 4. */
  checkpoints?: number;
  /** At most this many crashes (at a random checkpoint phase) at random points. Default 2. */
  crashes?: number;
  /** At most this many redeliveries of already-read input. Default 2. */
  redeliveries?: number;
  /** Processing time moves by 1..maxMs at most `count` random points. Default none. */
  advanceTime?: { count: number; maxMs: number };
}

/** A rate as a 0..999 draw that shrinks toward "no": yes when the draw is in the top `rate` of the range. */
function chance(rate: number): fc.Arbitrary<boolean> {
  const cut = 1000 - Math.round(Math.max(0, Math.min(1, rate)) * 1000);
  return fc.integer({ min: 0, max: 999 }).map((u) => u >= cut);
}

/**
 * Schedules of the records `records` draws: the records in a random arrival
 * order (see above), with duplicates, late ones and control steps mixed in.
 */
export function scheduleArbitrary<T>(records: fc.Arbitrary<Array<InputRecord<T>>>, o: ScheduleOptions<T> = {}): fc.Arbitrary<Array<ScheduleStep<T>>> {
  const bound = Math.max(0, o.boundMs ?? 0);
  const timeOf = o.timeOf ?? ((r: InputRecord<T>) => r.time ?? 0);
  const jitter = fc.integer({ min: 0, max: Math.max(0, bound - 1) });
  const lateBy = o.late ? fc.tuple(chance(o.late.rate), fc.integer({ min: 1, max: Math.max(1, o.late.maxMs) })).map(([yes, ms]) => (yes ? bound + ms : undefined)) : fc.constant(undefined);
  const dup = o.duplicates ? fc.tuple(chance(o.duplicates), jitter).map(([yes, j]) => (yes ? j : undefined)) : fc.constant(undefined);
  return records.chain((recs) => {
    const n = recs.length;
    const per = fc.array(fc.record({ jitter, lateBy, dup }), { minLength: n, maxLength: n });
    const sources = [...new Set(recs.map((r) => r.source))];
    const counts = { checkpoint: o.checkpoints ?? 4, crash: o.crashes ?? 2, redeliver: sources.length > 0 ? (o.redeliveries ?? 2) : 0, time: o.advanceTime?.count ?? 0 };
    const steps = fc.tuple(
      fc.array(fc.constant<ScheduleStep<T>>({ kind: 'checkpoint' }), { maxLength: counts.checkpoint }),
      fc.array(fc.constantFrom(...CRASH_POINTS).map((at): ScheduleStep<T> => ({ kind: 'crash', at })), { maxLength: counts.crash }),
      sources.length === 0
        ? fc.constant([])
        : fc.array(fc.record({ source: fc.constantFrom(...sources), fromOffset: fc.nat({ max: Math.max(0, n - 1) }) }).map((r): ScheduleStep<T> => ({ kind: 'redeliver', ...r })), { maxLength: counts.redeliver }),
      fc.array(fc.integer({ min: 1, max: Math.max(1, o.advanceTime?.maxMs ?? 1) }).map((ms): ScheduleStep<T> => ({ kind: 'advance-time', ms })), { maxLength: counts.time }),
    ).map((groups) => groups.flat());
    return fc.tuple(per, steps.chain((cs) => fc.tuple(fc.constant(cs), fc.array(fc.nat(), { minLength: cs.length, maxLength: cs.length })))).map(([draws, [cs, at]]) => {
      const arrivals: Array<{ key: number; seq: number; rec: InputRecord<T> }> = [];
      recs.forEach((rec, i) => {
        const t = timeOf(rec);
        const d = draws[i];
        arrivals.push({ key: t + (d.lateBy ?? d.jitter), seq: arrivals.length, rec });
        if (d.dup !== undefined) arrivals.push({ key: t + d.dup, seq: arrivals.length, rec });
      });
      arrivals.sort((a, b) => a.key - b.key || a.seq - b.seq);
      const out: Array<ScheduleStep<T>> = arrivals.map((a) => ({ kind: 'record', ...a.rec }));
      // Control steps go in at random points, latest position first so earlier inserts do not shift them.
      const placed = cs.map((step, k) => ({ step, pos: at[k] % (out.length + 1) })).sort((a, b) => b.pos - a.pos);
      for (const p of placed) out.splice(p.pos, 0, p.step);
      return out;
    });
  });
}

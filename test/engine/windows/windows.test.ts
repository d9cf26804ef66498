/**
 * Event-time windows in a real partition actor (LMDB state, timers, the
 * runtime's watermark): fixed cases first, then fast-check properties against
 * the plain reference model in window-reference.ts.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStoreEnv, type StoreEnvHandle } from '../../../engine/runtime/stores.ts';
import { aggregate, count, countDistinct, hoppingWindow, sessionWindow, sum, tumblingWindow, type WindowResult } from '../../../engine/operators/windows/index.ts';
import { tempDir } from '../../helpers/temp.ts';
import { runWindow, type In } from './window-harness.ts';
import { finalByWindow, referenceSessions, referenceWindows, sortWindows } from './window-reference.ts';

type Res = { n: number; sum: number; distinct: number };
const agg = () => aggregate({ n: count<In>(), sum: sum<In>((e) => e.v), distinct: countDistinct<In>((e) => e.v % 3) });

let env: StoreEnvHandle;
beforeAll(() => {
  // Durability is not what these tests are about; fsync per commit would only slow the properties down.
  process.env.SLUICE_STATE_NOSYNC = '1';
  env = openStoreEnv(tempDir('sluice-windows-'));
});
afterAll(async () => {
  await env.close();
  delete process.env.SLUICE_STATE_NOSYNC;
});

const flat = (ws: Array<WindowResult<Res>>) => ws.map((w) => ({ key: String(w.key), start: w.start, end: w.end, ...w.result }));
const ev = (k: string, t: number, v = 1): In => ({ k, t, v });

describe('tumbling windows', () => {
  it('emit each window once, on time, when the watermark passes its end', async () => {
    const events = [ev('a', 0, 1), ev('a', 5, 2), ev('b', 7, 3), ev('a', 12, 4), ev('a', 31, 5)];
    const r = await runWindow<Res>({ env, makeOperator: () => tumblingWindow({ sizeMs: 10, aggregate: agg() }), events, boundMs: 0 });
    expect(r.out.every((w) => w.kind === 'on-time')).toBe(true);
    expect(sortWindows(flat(r.out))).toEqual([
      { key: 'a', start: 0, end: 10, n: 2, sum: 3, distinct: 2 },
      { key: 'a', start: 10, end: 20, n: 1, sum: 4, distinct: 1 },
      { key: 'a', start: 30, end: 40, n: 1, sum: 5, distinct: 1 },
      { key: 'b', start: 0, end: 10, n: 1, sum: 3, distinct: 1 },
    ]);
    expect(r.counts.get('windows_fired')).toBe(4);
  });

  it('send records beyond the bound and the lateness to the side output, counted, and never into a window', async () => {
    // Watermark after t=25 is 25 - 5 = 20: window [0,10) is closed, a record at t=3 is late.
    const events = [ev('a', 1), ev('a', 25), ev('a', 3, 7), ev('a', 26)];
    const r = await runWindow<Res>({ env, makeOperator: () => tumblingWindow({ sizeMs: 10, aggregate: agg() }), events, boundMs: 5 });
    expect(r.late).toEqual([ev('a', 3, 7)]);
    expect(r.counts.get('late_records')).toBe(1);
    expect(sortWindows(flat(r.out)).map((w) => [w.start, w.n, w.sum])).toEqual([
      [0, 1, 1],
      [20, 2, 2],
    ]);
  });

  it('update a fired window within the allowed lateness (kind late), and clean it up after', async () => {
    // bound 0: after t=12 the watermark is 12 and [0,10) has fired; t=3 is 2 ms past the end, lateness 5 lets it in.
    const events = [ev('a', 1), ev('a', 12), ev('a', 3, 5), ev('a', 30), ev('a', 4, 9)];
    const r = await runWindow<Res>({
      env,
      makeOperator: () => tumblingWindow({ sizeMs: 10, allowedLatenessMs: 5, aggregate: agg() }),
      events,
      boundMs: 0,
    });
    const first = r.out.filter((w) => w.start === 0);
    expect(first.map((w) => [w.kind, w.result.n, w.result.sum])).toEqual([
      ['on-time', 1, 1],
      ['late', 2, 6],
    ]);
    // After t=30 the watermark is 30 >= 10 + 5: t=4 is too late even with the lateness.
    expect(r.late).toEqual([ev('a', 4, 9)]);
  });

  it('emit early results of open windows at checkpoints when asked', async () => {
    const events = [ev('a', 1), ev('a', 2), ev('a', 3), ev('a', 15)];
    const r = await runWindow<Res>({
      env,
      makeOperator: () => tumblingWindow({ sizeMs: 10, early: { intervalMs: 0 }, aggregate: agg() }),
      events,
      boundMs: 100,
      checkpointAfter: new Set([0, 2]),
    });
    expect(r.out.filter((w) => w.start === 0).map((w) => [w.kind, w.result.n])).toEqual([
      ['early', 1],
      ['early', 3],
      ['on-time', 3],
    ]);
  });

  it('give the same windows after a crash and a restart from the last checkpoint', async () => {
    const events = Array.from({ length: 60 }, (_, i) => ev(`k${i % 3}`, i * 7 - (i % 4) * 3, i));
    const make = () => tumblingWindow({ sizeMs: 50, allowedLatenessMs: 10, aggregate: agg() });
    const clean = await runWindow<Res>({ env, makeOperator: make, events, boundMs: 10 });
    const crashed = await runWindow<Res>({ env, makeOperator: make, events, boundMs: 10, checkpointAfter: new Set([20, 35]), crashAfter: 44 });
    expect(sortWindows(flat(finalByWindow(crashed.out)))).toEqual(sortWindows(flat(finalByWindow(clean.out))));
  });
});

describe('hopping windows', () => {
  it('put a record in size/slide windows while updating one pane', async () => {
    const events = [ev('a', 0, 1), ev('a', 12, 2), ev('a', 29, 4)];
    const r = await runWindow<Res>({ env, makeOperator: () => hoppingWindow({ sizeMs: 20, slideMs: 10, aggregate: agg() }), events, boundMs: 0 });
    expect(sortWindows(flat(r.out)).map((w) => [w.start, w.end, w.sum])).toEqual([
      [-10, 10, 1],
      [0, 20, 3],
      [10, 30, 6],
      [20, 40, 4],
    ]);
  });

  it('cost one state write per record, not one per window', () => {
    const op = hoppingWindow({ sizeMs: 3_600_000, slideMs: 60_000, aggregate: count() });
    let puts = 0;
    let timers = 0;
    const store = new Map<string, number>();
    const ctx = {
      watermark: () => -Infinity,
      now: () => 0,
      mapState: () => ({
        get: (k: string, f: number) => store.get(`${k}|${f}`),
        put: (k: string, f: number, v: number) => {
          puts++;
          store.set(`${k}|${f}`, v);
        },
      }),
      valueState: () => ({ get: () => undefined, put: () => {} }),
      timers: { registerEventTime: () => timers++ },
      count: () => {},
    };
    op.onStart(ctx as never);
    const n = 1000;
    op.process({ input: 0, values: Array.from({ length: n }, () => ({})), times: Array.from({ length: n }, (_, i) => i * 1000), keys: Array.from({ length: n }, () => 'k') }, ctx as never);
    expect(puts).toBe(n); // 60 windows contain each record
    expect(store.size).toBe(17); // 1000 s of records = 17 one-minute panes
    expect(timers).toBe(17); // one fire timer per new pane, none per window
  });
});

describe('session windows', () => {
  it('merge two sessions when an out-of-order record bridges them', async () => {
    // gap 10: [0..5] and [20..25] are apart until t=12 arrives (within the bound of 30).
    const events = [ev('u', 0), ev('u', 5), ev('u', 20), ev('u', 25), ev('u', 12), ev('u', 100)];
    const r = await runWindow<Res>({ env, makeOperator: () => sessionWindow({ gapMs: 10, aggregate: agg() }), events, boundMs: 30 });
    expect(sortWindows(flat(r.out)).map((w) => [w.start, w.end, w.n])).toEqual([
      [0, 35, 5],
      [100, 110, 1],
    ]);
  });

  it('start a new session when the gap has fully passed', async () => {
    const events = [ev('u', 0), ev('u', 10), ev('u', 19)];
    const r = await runWindow<Res>({ env, makeOperator: () => sessionWindow({ gapMs: 10, aggregate: agg() }), events, boundMs: 0 });
    expect(sortWindows(flat(r.out)).map((w) => [w.start, w.end, w.n])).toEqual([
      [0, 10, 1],
      [10, 29, 2],
    ]);
  });

  it('send a record that would only form an expired session to the side output', async () => {
    const events = [ev('u', 0), ev('u', 100), ev('u', 5, 9)];
    const r = await runWindow<Res>({ env, makeOperator: () => sessionWindow({ gapMs: 10, aggregate: agg() }), events, boundMs: 0 });
    expect(r.late).toEqual([ev('u', 5, 9)]);
    expect(sortWindows(flat(r.out)).map((w) => [w.start, w.n])).toEqual([
      [0, 1],
      [100, 1],
    ]);
  });
});

// ---- properties -----------------------------------------------------------------

const keys = fc.constantFrom('a', 'b', 'c');
const sortedEvents = (maxT: number) =>
  fc
    .array(fc.record({ k: keys, t: fc.integer({ min: 0, max: maxT }), v: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 40 })
    .map((es) => es.sort((x, y) => x.t - y.t));

/** An arrival order in which every record is at most `bound` behind the newest before it. */
function withinBound(events: In[], delays: number[], bound: number): In[] {
  return events
    .map((e, i) => ({ e, at: e.t + (delays[i % delays.length] % (bound + 1)), i }))
    .sort((a, b) => a.at - b.at || a.i - b.i)
    .map((x) => x.e);
}

const windowSpecs = fc.constantFrom({ size: 10, slide: 10 }, { size: 20, slide: 5 }, { size: 30, slide: 20 }, { size: 7, slide: 3 });
const runs = { numRuns: Number(process.env.SLUICE_PROPERTY_RUNS ?? 40) };

describe('window properties', () => {
  it('any arrival order within the bound gives the same final windows as the sorted input', async () => {
    await fc.assert(
      fc.asyncProperty(sortedEvents(200), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), windowSpecs, fc.integer({ min: 0, max: 25 }), async (events, delays, spec, bound) => {
        const make = () => hoppingWindow({ sizeMs: spec.size, slideMs: spec.slide, aggregate: agg() });
        const sorted = await runWindow<Res>({ env, makeOperator: make, events, boundMs: bound });
        const shuffled = await runWindow<Res>({ env, makeOperator: make, events: withinBound(events, delays, bound), boundMs: bound });
        expect(shuffled.late).toEqual([]);
        expect(sortWindows(flat(finalByWindow(shuffled.out)))).toEqual(sortWindows(flat(finalByWindow(sorted.out))));
        expect(sortWindows(flat(sorted.out))).toEqual(referenceWindows(events, spec.size, spec.slide, bound, 0).windows);
      }),
      runs,
    );
  });

  it('records later than bound + lateness go to the side output and never into a window; the rest match the reference', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ k: keys, t: fc.integer({ min: 0, max: 200 }), v: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 40 }),
        windowSpecs,
        fc.integer({ min: 0, max: 20 }),
        fc.integer({ min: 0, max: 20 }),
        async (events, spec, bound, lateness) => {
          const r = await runWindow<Res>({
            env,
            makeOperator: () => hoppingWindow({ sizeMs: spec.size, slideMs: spec.slide, allowedLatenessMs: lateness, aggregate: agg() }),
            events,
            boundMs: bound,
          });
          const ref = referenceWindows(events, spec.size, spec.slide, bound, lateness);
          expect(r.late).toEqual(ref.late);
          expect(r.counts.get('late_records') ?? 0).toBe(ref.late.length);
          expect(sortWindows(flat(finalByWindow(r.out)))).toEqual(ref.windows);
        },
      ),
      runs,
    );
  });

  it('session windows: any arrival order within the bound gives the sessions of the sorted input', async () => {
    await fc.assert(
      fc.asyncProperty(sortedEvents(300), fc.array(fc.nat(), { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 40 }), fc.integer({ min: 0, max: 30 }), async (events, delays, gap, bound) => {
        const make = () => sessionWindow({ gapMs: gap, aggregate: agg() });
        const r = await runWindow<Res>({ env, makeOperator: make, events: withinBound(events, delays, bound), boundMs: bound });
        expect(r.late).toEqual([]);
        const got = sortWindows(flat(finalByWindow(r.out)).map(({ key, start, end, n, sum: s }) => ({ key, start, end, n, sum: s })));
        expect(got).toEqual(referenceSessions(events, gap));
      }),
      runs,
    );
  });
});

/**
 * The schedule arbitraries and the model check (sluice/testing/fast-check),
 * used as a user would: a keyed window job checked against a plain model
 * over schedules with reordering, late records, duplicates, redeliveries and
 * crashes; a job that keeps state outside the state store fails the check.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { count, defineJob, kafkaSink, kafkaSource, KeyedProcessFunction, tumblingWindow, type Key, type OperatorContext, type WindowResult } from '../../../api/index.ts';
import { TestDriver, type Arrival } from '../../../api/testing.ts';
import { checkModel, runSchedule, scheduleArbitrary, type InputRecord, type ScheduleStep } from '../../../api/testing-fast-check.ts';

interface Ev {
  k: string;
  t: number;
}

const BOUND = 2000;
const SIZE = 5000;

const windowJob = defineJob({
  name: 'window-counts',
  sources: { events: kafkaSource<Ev>({ topic: 'events', codec: 'json', timestamp: (e) => e.t, watermark: { maxOutOfOrdernessMs: BOUND } }) },
  sinks: { out: kafkaSink({ topic: 'out', codec: 'json' }), late: kafkaSink({ topic: 'late', codec: 'json' }) },
  pipeline(b) {
    const w = b.source<Ev>('events').keyBy((e) => e.k, 'by-key').process(tumblingWindow({ sizeMs: SIZE, aggregate: count<Ev>() }), 'win');
    w.to('out');
    w.sideOutput('late').to('late');
  },
});

/** The model: per key and window, the count of records that were not late when they arrived. */
function windowModel(arrivals: Array<Arrival<Ev>>): { sinks: { out: Array<WindowResult<number>>; late: Ev[] } } {
  const counts = new Map<string, { key: string; start: number; n: number }>();
  const late: Ev[] = [];
  for (const a of arrivals) {
    const start = Math.floor(a.time / SIZE) * SIZE;
    if (start + SIZE <= a.watermark) {
      late.push(a.value);
      continue;
    }
    const id = `${a.value.k}@${start}`;
    const c = counts.get(id) ?? { key: a.value.k, start, n: 0 };
    c.n++;
    counts.set(id, c);
  }
  return { sinks: { out: [...counts.values()].map((c) => ({ key: c.key, start: c.start, end: c.start + SIZE, result: c.n, kind: 'on-time' })), late } };
}

const events: fc.Arbitrary<Array<InputRecord<Ev>>> = fc
  .array(fc.record({ k: fc.constantFrom('a', 'b', 'c', 'd'), t: fc.integer({ min: 0, max: 30_000 }) }), { maxLength: 40 })
  .map((evs) => evs.map((value) => ({ source: 'events', value, key: value.k })));

const timeOf = (r: InputRecord<Ev>): number => r.value.t;

/** Replays a schedule's record steps the way the watermark tracker sees them (one partition, one input). */
function lateness(steps: Array<ScheduleStep<Ev>>, bound: number): { late: number; records: number } {
  let max = -Infinity;
  let late = 0;
  let records = 0;
  for (const s of steps) {
    if (s.kind !== 'record') continue;
    records++;
    if (s.value.t < max - bound) late++;
    max = Math.max(max, s.value.t);
  }
  return { late, records };
}

describe('schedule arbitraries', () => {
  it('out of order within the bound: no record arrives behind the watermark', () => {
    fc.assert(
      fc.property(scheduleArbitrary(events, { boundMs: BOUND, timeOf }), (steps) => {
        expect(lateness(steps, BOUND).late).toBe(0);
      }),
    );
  });

  it('the records are reordered, duplicated and made late as asked, with control steps in between', () => {
    const seen = { reordered: 0, late: 0, duplicated: 0, crash: 0, checkpoint: 0, redeliver: 0, time: 0 };
    fc.assert(
      fc.property(
        events.chain((recs) => fc.tuple(fc.constant(recs), scheduleArbitrary(fc.constant(recs), { boundMs: BOUND, timeOf, late: { rate: 0.2, maxMs: 10_000 }, duplicates: 0.2, advanceTime: { count: 2, maxMs: 100 } }))),
        ([recs, steps]) => {
          const got = steps.filter((s) => s.kind === 'record').map((s) => (s as InputRecord<Ev>).value);
          // Every input record arrives, at most twice, and nothing else does.
          for (const r of recs) expect(got.filter((v) => v === r.value).length).toBeGreaterThanOrEqual(1);
          expect(got.every((v) => recs.some((r) => r.value === v))).toBe(true);
          if (got.length > recs.length) seen.duplicated++;
          if (lateness(steps, BOUND).late > 0) seen.late++;
          if (got.some((v, i) => i > 0 && v.t < got[i - 1].t)) seen.reordered++;
          for (const s of steps) {
            if (s.kind === 'crash') seen.crash++;
            if (s.kind === 'checkpoint') seen.checkpoint++;
            if (s.kind === 'redeliver') seen.redeliver++;
            if (s.kind === 'advance-time') seen.time++;
          }
          expect(steps.filter((s) => s.kind === 'crash').length).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 200 },
    );
    for (const [what, n] of Object.entries(seen)) expect(n, what).toBeGreaterThan(0);
  });
});

describe('checkModel', () => {
  it('a keyed window job matches its model over reordered, late, duplicated, redelivered input and crashes', async () => {
    await checkModel({
      open: () => new TestDriver(windowJob, { partitions: 2 }),
      schedules: scheduleArbitrary(events, { boundMs: BOUND, timeOf, late: { rate: 0.15, maxMs: 15_000 }, duplicates: 0.1, crashes: 3 }),
      model: windowModel,
      params: { numRuns: 40 },
    });
  });

  it('the model sees arrivals with the watermark of their partition', async () => {
    const t = new TestDriver(windowJob, { partitions: 2 });
    try {
      const steps: Array<ScheduleStep<Ev>> = [
        { kind: 'record', source: 'events', value: { k: 'a', t: 10_000 }, partition: 0 },
        { kind: 'record', source: 'events', value: { k: 'a', t: 1000 }, partition: 0 },
        { kind: 'record', source: 'events', value: { k: 'b', t: 1000 }, partition: 1 },
      ];
      await runSchedule(t, steps);
      expect(t.arrivals<Ev>().map((a) => [a.partition, a.time, a.watermark])).toEqual([
        [0, 10_000, -Infinity],
        [0, 1000, 8000],
        [1, 1000, -Infinity],
      ]);
    } finally {
      await t.close();
    }
  });

  /** Counts per key in a class field, not in keyed state: a restart forgets what the last checkpoint covered. */
  class FieldCounter extends KeyedProcessFunction<Ev, string> {
    private readonly n = new Map<Key, number>();
    processElement(_v: Ev, key: Key, time: number, ctx: OperatorContext<string>): void {
      const n = (this.n.get(key) ?? 0) + 1;
      this.n.set(key, n);
      ctx.emit(`${key}:${n}`, time, key);
    }
  }

  it('fails a job that keeps state outside the state store, with the smallest schedule that shows it', async () => {
    const open = () =>
      TestDriver.forPipeline((b) => b.source<Ev>('events').keyBy((e) => e.k, 'by-key').process(new FieldCounter(), 'counter').to('out'), {
        sources: { events: { timestamp: (e) => (e as Ev).t } },
      });
    const model = (arrivals: Array<Arrival<Ev>>) => {
      const n = new Map<string, number>();
      return { sinks: { out: arrivals.map((a) => `${a.value.k}:${n.set(a.value.k, (n.get(a.value.k) ?? 0) + 1).get(a.value.k)}`) } };
    };
    const failure = await checkModel({ open, schedules: scheduleArbitrary(events, { timeOf, crashes: 2 }), model, params: { numRuns: 200, seed: 7 } }).then(
      () => undefined,
      (err: unknown) => err as Error,
    );
    expect((failure?.cause as Error | undefined)?.message).toMatch(/sink "out" differs from the model/);
    // The shrunk counterexample has a crash in it.
    expect(failure?.message).toMatch(/Counterexample: .*"kind":"crash"/);
    // The same job passes when nothing crashes.
    await checkModel({ open, schedules: scheduleArbitrary(events, { timeOf, crashes: 0 }), model, params: { numRuns: 20 } });
  });
});

/**
 * The bound-once families against prom-client itself: for the same
 * observations, toJSON() must equal what prom-client's own metrics give from
 * getMetricsAsJSON(), since the main thread merges the two kinds together.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { CounterFamily, GaugeFamily, HistogramFamily } from '../../metrics/families.ts';

describe('metric families', () => {
  it('a histogram child exports what a prom-client Histogram exports for the same observations', async () => {
    const buckets = [0.01, 0.1, 1, 10];
    const values = [0, 0.005, 0.01, 0.0100001, 0.5, 1, 3, 10, 11, 1e9];
    const ours = new HistogramFamily('h_seconds', 'help', ['job', 'sink'], buckets);
    const child = ours.bind({ job: 'j', sink: 's' });
    for (const v of values) child.observe(v);

    const reg = new Registry();
    const theirs = new Histogram({ name: 'h_seconds', help: 'help', labelNames: ['job', 'sink'], buckets, registers: [reg] });
    for (const v of values) theirs.observe({ job: 'j', sink: 's' }, v);
    const [json] = await reg.getMetricsAsJSON();

    const mine = ours.toJSON();
    expect(mine.type).toBe('histogram');
    const norm = (vals: Array<{ labels: object; value: number; metricName?: string }>) =>
      vals.map((v) => ({ metricName: v.metricName, labels: { ...v.labels }, value: v.value })).sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    expect(norm(mine.values)).toEqual(norm(json.values as never));
  });

  it('observeN counts n observations of one value', () => {
    const f = new HistogramFamily('h', 'help', ['a'], [1, 2]);
    const c = f.bind({ a: 'x' });
    c.observeN(1.5, 4);
    c.observe(0.5);
    const v = f.toJSON().values;
    const bucket = (le: number | string) => v.find((s) => s.metricName === 'h_bucket' && s.labels.le === le)!.value;
    expect([bucket(1), bucket(2), bucket('+Inf')]).toEqual([1, 5, 5]);
    expect(v.find((s) => s.metricName === 'h_sum')!.value).toBeCloseTo(6.5);
    expect(v.find((s) => s.metricName === 'h_count')!.value).toBe(5);
  });

  it('counters and gauges export like prom-client', async () => {
    const c = new CounterFamily('c_total', 'help', ['p']);
    c.bind({ p: '1' }).inc(3);
    c.bind({ p: '1' }).inc(2);
    c.bind({ p: '2' }).inc();
    const g = new GaugeFamily('g', 'help', ['p']);
    g.bind({ p: '1' }).set(7);

    const reg = new Registry();
    const pc = new Counter({ name: 'c_total', help: 'help', labelNames: ['p'], registers: [reg] });
    pc.inc({ p: '1' }, 5);
    pc.inc({ p: '2' }, 1);
    const pg = new Gauge({ name: 'g', help: 'help', labelNames: ['p'], registers: [reg] });
    pg.set({ p: '1' }, 7);
    const [jc, jg] = await reg.getMetricsAsJSON();
    expect(c.toJSON().values).toEqual(jc.values.map((v) => ({ labels: v.labels, value: v.value })));
    expect(g.toJSON().values).toEqual(jg.values.map((v) => ({ labels: v.labels, value: v.value })));
  });

  it('binds a label set once: the same child every time, and no child per call', () => {
    const f = new CounterFamily('c_total', 'help', ['job', 'partition']);
    const a = f.bind({ job: 'j', partition: '0' });
    expect(f.bind({ partition: '0', job: 'j' })).toBe(a);
    expect(f.size).toBe(1);
    f.remove({ job: 'j', partition: '0' });
    expect(f.size).toBe(0);
  });

  it('rejects label sets that do not match the declared names', () => {
    const f = new CounterFamily('c_total', 'help', ['job', 'partition']);
    expect(() => f.bind({ job: 'j' })).toThrow(/labels must be exactly \{job, partition\}/);
    expect(() => f.bind({ job: 'j', partition: '0', extra: 'x' })).toThrow(/labels must be exactly/);
    expect(() => f.bind({ job: 'j', partition: 0 as unknown as string })).toThrow(/string values/);
    expect(() => new HistogramFamily('h', 'help', ['le'], [1])).toThrow(/reserved/);
    expect(() => new HistogramFamily('h', 'help', [], [2, 1])).toThrow(/increase/);
  });
});

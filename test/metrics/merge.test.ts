/** Merging worker and main-thread families into one exposition. */
import { describe, expect, it } from 'vitest';
import { MetricSet } from '../../metrics/catalog.ts';
import { exposition, processFamilies } from '../../metrics/merge.ts';
import { WorkerMetrics } from '../../metrics/worker-metrics.ts';
import { parseExposition } from './exposition.ts';
import { stats } from './stats.ts';

describe('merge', () => {
  it('prints each family once, with every worker’s series under its worker label', async () => {
    const w0 = new WorkerMetrics('j', 0);
    const w1 = new WorkerMetrics('j', 1);
    w0.openActor('p0', 0, ['events'], ['out']);
    w0.openActor('p2', 2, ['events'], ['out']);
    w1.openActor('p1', 1, ['events'], ['out']);
    const text = await exposition([
      w0.collect([stats('p0', { recordsIn: [10] }), stats('p2', { recordsIn: [20] })]),
      w1.collect([stats('p1', { recordsIn: [5] })]),
    ]);
    const e = parseExposition(text);
    for (const [name, n] of e.typeLines) expect(n, name).toBe(1);
    expect(e.types.get('sluice_records_in_total')).toBe('counter');
    expect(e.types.get('sluice_processing_latency_seconds')).toBe('histogram');
    const ins = e.find('sluice_records_in_total').map((s) => [s.labels.worker, s.labels.partition, s.value]);
    expect(ins.sort()).toEqual([
      ['0', '0', 10],
      ['0', '2', 20],
      ['1', '1', 5],
    ]);
    // Histograms keep their bucket structure through the merge.
    const buckets = e.find('sluice_checkpoint_duration_seconds_bucket', { partition: '1' });
    expect(buckets.at(-1)!.labels.le).toBe('+Inf');
    expect(e.find('sluice_worker_heap_used_bytes').map((s) => s.labels.worker).sort()).toEqual(['0', '1']);
  });

  it('sums two sources that report the very same label set', async () => {
    const a = new MetricSet(['main']);
    const b = new MetricSet(['main']);
    a.counter('sluice_rebalances_total').bind({ job: 'j' }).inc(2);
    b.counter('sluice_rebalances_total').bind({ job: 'j' }).inc(3);
    const e = parseExposition(await exposition([a.toJSON(), b.toJSON()]));
    expect(e.find('sluice_rebalances_total')).toEqual([{ name: 'sluice_rebalances_total', labels: { job: 'j' }, value: 5 }]);
  });

  it('adds the job label to the process metrics and keeps the ones prom-client would omit in cluster mode', async () => {
    const e = parseExposition(await exposition([await processFamilies('my-job')]));
    const start = e.find('process_start_time_seconds');
    expect(start).toHaveLength(1);
    expect(start[0].labels.job).toBe('my-job');
    expect(Math.abs(start[0].value - (Date.now() / 1000 - process.uptime()))).toBeLessThan(5);
    expect(e.find('process_cpu_user_seconds_total', { job: 'my-job' })).toHaveLength(1);
    expect(e.find('nodejs_heap_size_used_bytes', { job: 'my-job' })).toHaveLength(1);
  });
});

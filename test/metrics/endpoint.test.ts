/**
 * The /metrics and /healthz endpoint of a real job run in this process
 * (worker threads, LMDB, file sink): every worker's series arrive at one
 * endpoint, the figures agree with the runner's own counters, and the
 * endpoint follows the job's life cycle.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySettings, loadJob } from '../../engine/runtime/job-loader.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import type { FromWorker } from '../../engine/runtime/protocol.ts';
import { tempDir } from '../helpers/temp.ts';
import { parseExposition, type Exposition } from './exposition.ts';

const JOB = new URL('./fixtures/metrics-job.ts', import.meta.url).href;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function runner(extra: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}, set: Record<string, string> = {}): Promise<JobRunner> {
  const job = await loadJob(JOB);
  return new JobRunner({
    jobModule: JOB,
    job,
    settings: applySettings(job.settings, { ratePerSec: '400', ...set }),
    workers: 2,
    stateDir: tempDir(),
    outputDir: tempDir(),
    checkpointIntervalMs: 200,
    metricsPort: 0,
    ...extra,
  });
}

describe('metrics endpoint on an embedded job', () => {
  let r: JobRunner;
  let base: string;
  const scrape = async (): Promise<Exposition> => {
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parseExposition(await res.text());
  };

  beforeAll(async () => {
    r = await runner();
    await r.start();
    const a = r.metricsAddress!;
    expect(a.host).toBe('127.0.0.1');
    base = `http://127.0.0.1:${a.port}`;
    // Long enough for several checkpoints and deliveries.
    await sleep(2_500);
  });

  afterAll(async () => {
    if (r.state === 'RUNNING') await r.stop();
  });

  it('reports a ready, running job at /healthz', async () => {
    const res = await fetch(`${base}/healthz`);
    expect(res.status).toBe(200);
    const h = (await res.json()) as Record<string, unknown>;
    expect(h).toMatchObject({ job: 'metrics-fixture', state: 'RUNNING', ready: true, partitions: 4 });
    expect(h.workers).toEqual([
      { id: 0, state: 'READY' },
      { id: 1, state: 'READY' },
    ]);
    expect(h.lastCheckpointAgeSeconds).toBeLessThan(5);
  });

  it('serves every partition of every worker, each family once', async () => {
    const e = await scrape();
    for (const [name, n] of e.typeLines) expect(n, name).toBe(1);
    const owners = e.find('sluice_records_in_total').map((s) => `${s.labels.partition}@${s.labels.worker}`);
    // Partition p runs on worker p mod 2.
    expect(owners.sort()).toEqual(['0@0', '1@1', '2@0', '3@1']);
    for (const s of e.find('sluice_records_in_total')) {
      expect(s.labels).toMatchObject({ job: 'metrics-fixture', source: 'events' });
      expect(s.value).toBeGreaterThan(0);
    }
    expect(e.find('sluice_job_state', { state: 'RUNNING' })[0].value).toBe(1);
    expect(e.find('process_resident_memory_bytes', { job: 'metrics-fixture' })).toHaveLength(1);
    expect(e.find('sluice_worker_busy_seconds_total').map((s) => s.labels.worker).sort()).toEqual(['0', '1']);
  });

  it('agrees with the runner’s counters (which lag by up to one stats interval)', async () => {
    const before = r.summary();
    const e = await scrape();
    await sleep(1_300);
    const after = r.summary();
    const recordsIn = e.sum('sluice_records_in_total');
    expect(recordsIn).toBeGreaterThanOrEqual(before.recordsIn);
    expect(recordsIn).toBeLessThanOrEqual(after.recordsIn);
    const out = e.sum('sluice_records_out_total', { sink: 'out' });
    expect(out).toBeGreaterThanOrEqual(before.recordsOut.out);
    expect(out).toBeLessThanOrEqual(after.recordsOut.out);
    const dead = e.sum('sluice_dead_letters_total', { reason: 'validation_failed' });
    expect(dead).toBeGreaterThan(0);
    expect(dead).toBeGreaterThanOrEqual(before.deadLetters.validation_failed);
    expect(dead).toBeLessThanOrEqual(after.deadLetters.validation_failed);
    expect(e.sum('sluice_operator_events_total', { operator: 'tally', event: 'first_seen' })).toBe(after.operatorCounts['tally:first_seen']);
    // Every key was first seen long ago (98 keys per partition cycle within 100 records), and all are checkpointed.
    expect(e.sum('sluice_state_keys')).toBe(e.sum('sluice_operator_events_total', { event: 'first_seen' }));
    expect(e.sum('sluice_state_keys')).toBe(4 * 98);
  });

  it('has latencies and checkpoint figures from real deliveries', async () => {
    const e = await scrape();
    for (const p of ['0', '1', '2', '3']) {
      const l = { partition: p, sink: 'out' };
      const n = e.sum('sluice_processing_latency_seconds_count', l);
      expect(n, `deliveries of p${p}`).toBeGreaterThan(0);
      expect(e.sum('sluice_event_time_latency_seconds_count', l)).toBeGreaterThanOrEqual(n);
      // Records wait for a checkpoint (every 200 ms) and an fsync'ed file: well under 10 s, more than 0.
      const mean = e.sum('sluice_processing_latency_seconds_sum', l) / n;
      expect(mean).toBeGreaterThan(0);
      expect(mean).toBeLessThan(10);
      expect(e.sum('sluice_checkpoint_duration_seconds_count', { partition: p })).toBeGreaterThan(0);
      expect(e.sum('sluice_checkpoint_size_bytes_sum', { partition: p })).toBeGreaterThan(0);
      const age = Date.now() / 1000 - e.sum('sluice_last_checkpoint_timestamp_seconds', { partition: p });
      expect(age).toBeGreaterThanOrEqual(-1);
      expect(age).toBeLessThan(5);
    }
    expect(e.sum('sluice_sink_errors_total')).toBe(0);
    // Kafka-only series are declared but empty for an embedded job.
    expect(e.find('sluice_consumer_lag_records')).toHaveLength(0);
  });

  it('answers unknown paths with 404 and other methods with 405', async () => {
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/`)).status).toBe(200);
  });

  it('closes with the job', async () => {
    await r.stop();
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });
});

describe('metrics of a slow, failing sink', () => {
  it('counts the sink’s errors and retries, and the time its partitions were backpressured', async () => {
    // Deliveries take 400 ms while checkpoints come every 50 ms: undelivered epochs pile up past the limit of 4.
    const r = await runner({ checkpointIntervalMs: 50 }, { ratePerSec: '2000', sink: 'slow', sinkDelayMs: '400', sinkFailures: '3' });
    await r.start();
    try {
      const base = `http://127.0.0.1:${r.metricsAddress!.port}`;
      let e = parseExposition('');
      const deadline = Date.now() + 30_000;
      do {
        await sleep(500);
        e = parseExposition(await (await fetch(`${base}/metrics`)).text());
      } while (Date.now() < deadline && !(e.sum('sluice_sink_retries_total', { sink: 'out' }) >= 6 && e.sum('sluice_backpressure_seconds_total') > 1));
      // Each worker's driver fails its first 3 attempts, and each failure is retried.
      expect(e.sum('sluice_sink_errors_total', { sink: 'out' })).toBe(6);
      expect(e.sum('sluice_sink_retries_total', { sink: 'out' })).toBe(6);
      expect(e.sum('sluice_sink_errors_total', { sink: '__dlq' })).toBe(0);
      expect(e.sum('sluice_backpressure_seconds_total')).toBeGreaterThan(1);
      expect(Math.max(...e.find('sluice_outbox_undelivered_epochs').map((s) => s.value))).toBeGreaterThanOrEqual(1);
      // Records wait for the slow deliveries: at least one 400 ms delivery each.
      const n = e.sum('sluice_processing_latency_seconds_count', { sink: 'out' });
      expect(n).toBeGreaterThan(0);
      expect(e.sum('sluice_processing_latency_seconds_sum', { sink: 'out' }) / n).toBeGreaterThan(0.4);
    } finally {
      await r.stop();
    }
  });
});

describe('metrics endpoint errors', () => {
  it('refuses a port that is in use with a configuration error naming it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((res) => blocker.listen(0, '127.0.0.1', res));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      const r = await runner({ metricsPort: port });
      await expect(r.start()).rejects.toMatchObject({ code: 'SLUICE_CONFIG', message: expect.stringMatching(`127.0.0.1:${port} is in use`) });
      expect(r.state).toBe('FAILED');
    } finally {
      blocker.close();
    }
  });

  it('is off unless a port is given: workers answer a metrics request with nothing', async () => {
    const r = await runner({ metricsPort: undefined });
    await r.start();
    try {
      expect(r.metricsAddress).toBeUndefined();
      const reply = await r.workerHandles[0].request<Extract<FromWorker, { t: 'metrics' }>>({ t: 'metrics' });
      expect(reply.families).toEqual([]);
    } finally {
      await r.stop();
    }
  });
});

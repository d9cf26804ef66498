/**
 * Latency of the orders-payments job at a fixed load: live records produced
 * at `rate` records/s (half of the measured maximum) by a separate process
 * (live-producer.ts) into fresh topics, the job's sinks replaced by the
 * latency sink (bench/jobs/latency-sink.ts), which samples
 * `write time - event time` = from the producer's timestamp to the sink's
 * write, checkpoint included. The first `warmupS` seconds are not sampled.
 *
 * Sluice releases output when the checkpoint that holds it is durable, so
 * the checkpoint interval bounds latency from below: the phase runs once per
 * interval given.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { figure, log, type Figure, type Goal, type Labels } from '../bench-harness.ts';
import { datasetFor, deleteTopics, deleteTopicsWithPrefix, type Dataset } from './kafka-data.ts';

export interface LatencyOptions {
  jobModule: string;
  settingsFor: (d: Dataset) => Promise<Settings>;
  brokers: string[];
  partitions: number;
  workers: number;
  /** Records per second, orders and payments together. */
  rate: number;
  seconds: number;
  checkpointIntervalMs: number;
  warmupS?: number;
}

export function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

type Produced = { records: number; seconds: number; skippedTicks: number; lateTicks: number };

/** The latency table's row for one contender: percentiles of the sorted samples (ms) and what the live producer managed. */
export function latencyFigures(labels: Labels, sorted: Float64Array, produced: Produced, p99Goal?: Goal): Figure[] {
  return [
    figure(labels, 'p50', 'ms', [percentile(sorted, 50)]),
    figure(labels, 'p99', 'ms', [percentile(sorted, 99)], p99Goal ? { goal: p99Goal } : undefined),
    figure(labels, 'max', 'ms', [sorted.length ? sorted[sorted.length - 1] : NaN]),
    figure(labels, 'samples', 'records', [sorted.length]),
    figure(labels, 'produced', 'records/s', [produced.records / produced.seconds]),
    figure(labels, 'producer ticks skipped', 'ticks of 10 ms', [produced.skippedTicks]),
  ];
}

export function runProducer(args: string[]): Promise<Produced> {
  const script = fileURLToPath(new URL('./live-producer.ts', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) reject(new Error(`live producer exited with ${code}: ${out}`));
      else resolve(JSON.parse(line) as { records: number; seconds: number; skippedTicks: number; lateTicks: number });
    });
  });
}

export async function measureLatency(o: LatencyOptions): Promise<Figure[]> {
  const warmupS = o.warmupS ?? 3;
  const d = datasetFor(0, o.partitions, `sluice-bench-live-${Date.now().toString(36)}`);
  const admin = createAdmin({ brokers: o.brokers, clientId: 'sluice-bench' });
  try {
    for (const t of [d.ordersTopic, d.paymentsTopic]) await admin.ensureTopic(t, d.partitions);
  } finally {
    await admin.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-latency-'));
  const jobModule = new URL('../jobs/orders-payments-latency.ts', import.meta.url).href;
  try {
    const job = ((await import(jobModule)) as { default: JobDefinition<Settings> }).default;
    const runner = new JobRunner({
      jobModule,
      job,
      settings: await o.settingsFor(d),
      workers: o.workers,
      brokers: o.brokers,
      groupId: `${d.ordersTopic}-group`,
      stateDir: join(dir, 'state'),
      outputDir: join(dir, 'out'),
      checkpointIntervalMs: o.checkpointIntervalMs,
    });
    await runner.start();
    // Samples whose event time falls in the producer's first warmupS seconds are dropped.
    const sinceMs = Date.now() + warmupS * 1000;
    const produced = await runProducer([o.brokers.join(','), d.ordersTopic, d.paymentsTopic, String(o.rate), String(o.seconds)]);
    await new Promise((r) => setTimeout(r, 2 * o.checkpointIntervalMs + 1000));
    await runner.stop();
    const samples: number[] = [];
    const outDir = join(dir, 'out');
    for (const f of readdirSync(outDir).filter((n) => n.startsWith('latency-'))) {
      for (const [t, ms] of JSON.parse(readFileSync(join(outDir, f), 'utf8')) as Array<[number, number]>) if (t >= sinceMs) samples.push(ms);
    }
    const sorted = Float64Array.from(samples).sort();
    const labels = { contender: `latency at ${o.rate.toLocaleString('en-US')} records/s, checkpoint every ${o.checkpointIntervalMs} ms` };
    log(`kafka: latency (checkpoint ${o.checkpointIntervalMs} ms): ${sorted.length} samples, p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms; producer ${JSON.stringify(produced)}`);
    return latencyFigures(labels, sorted, produced, { op: '<=', value: 50, source: 'issue 8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(o.brokers, [d.ordersTopic, d.paymentsTopic]).catch(() => {});
    await deleteTopicsWithPrefix(o.brokers, `${d.ordersTopic}-group-`).catch(() => []);
  }
}

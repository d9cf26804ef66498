/**
 * `npm run bench -- engine`: the embedded runtime's throughput, no servers.
 *
 * - stateless: generator → map → filter → flatMap → discard
 * - keyed-count: generator → keyBy → keyed count in LMDB state (emitted at
 *   each checkpoint) → discard
 * - orders-payments-demo: two generated sources → union → keyBy → keyed
 *   matcher with state and event-time timers → local JSON-lines files
 *
 * Each at 1 and 2 workers, runs alternating so machine noise hits all alike.
 * records/s counts input records over the job's whole life (worker start to
 * final checkpoint), so it includes the fixed start-up cost of about 0.5 s.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../../engine/runtime/job-loader.ts';
import { builtinJobs } from '../../jobs/registry.ts';
import { figure, log, type Figure } from '../bench-harness.ts';
import type { Scenario } from '../scenario.ts';

interface Case {
  name: string;
  job: string;
  set: Record<string, string>;
  records: number;
}

async function runOnce(c: Case, workers: number): Promise<{ rate: number; cpuS: number }> {
  const dir = join(tmpdir(), `sluice-bench-${process.pid}-${Date.now()}`);
  const url = resolveJobModule(c.job, builtinJobs);
  const job = await loadJob(url);
  const r = new JobRunner({
    jobModule: url,
    job,
    settings: applySettings(job.settings, c.set),
    workers,
    stateDir: join(dir, 'state'),
    outputDir: join(dir, 'out'),
  });
  const cpu0 = process.cpuUsage();
  await r.start();
  const s = await r.wait();
  const cpu = process.cpuUsage(cpu0);
  rmSync(dir, { recursive: true, force: true });
  if (s.recordsIn !== c.records) throw new Error(`${c.name}: expected ${c.records} records in, got ${s.recordsIn}`);
  return { rate: s.recordsIn / (s.elapsedMs / 1000), cpuS: (cpu.user + cpu.system) / 1e6 };
}

export const engineScenario: Scenario = {
  name: 'engine',
  description: 'Embedded runtime throughput: stateless, keyed count, and the orders/payments demo, at 1 and 2 workers',
  defaults: { runs: 3, records: 1_000_000 },
  async run(o) {
    const runs = Number(o.runs);
    const per = Math.floor(Number(o.records) / 4);
    const cases: Case[] = [
      { name: 'stateless', job: fileURLToPath(new URL('../jobs/stateless.ts', import.meta.url)), set: { perPartition: String(per) }, records: per * 4 },
      { name: 'keyed-count', job: 'keyed-count', set: { source: 'generator', sink: 'discard', perPartition: String(per), keys: '10000' }, records: per * 4 },
      { name: 'orders-payments-demo', job: 'orders-payments-demo', set: { ordersPerPartition: String(Math.floor(per / 2)) }, records: Math.floor(per / 2) * 8 },
    ];
    const figures: Figure[] = [];
    const results = new Map<string, number[]>();
    for (let i = 0; i < runs; i++) {
      for (const c of cases) {
        for (const workers of [1, 2]) {
          const { rate } = await runOnce(c, workers);
          log(`engine: ${c.name} workers=${workers} run ${i + 1}: ${Math.round(rate)} records/s`);
          const k = `${c.name}|${workers}`;
          results.set(k, [...(results.get(k) ?? []), rate]);
        }
      }
    }
    for (const [k, rs] of results) {
      const [name, workers] = k.split('|');
      figures.push(figure({ job: name, workers: Number(workers) }, 'throughput', 'records/s', rs));
    }
    return {
      settings: { runs, records: Number(o.records), partitions: 4, checkpointIntervalMs: 1000 },
      figures,
      notes: [
        'Embedded sources (deterministic generators), so no broker or network is involved.',
        'records/s = input records / (job start to final checkpoint), start-up included.',
      ],
    };
  },
};

/**
 * Nexmark on the embedded runtime: each query of jobs/nexmark/ as an
 * ordinary job, generator in the workers, discard sink, with 1 and with 2
 * worker threads; several runs each.
 *
 * What a run measures: from the moment the runner has started (workers up,
 * partition actors open, generation begun) until the job has stopped (every
 * event processed, windows closed at the end of input, final checkpoint
 * taken). Worker start-up (loading TypeScript) is outside; the drain is in.
 *
 *   events/s              events / wall seconds
 *   events/s per worker   events/s / workers: per core if each worker had a core to itself
 *   events per CPU-second events / CPU seconds of the whole process (every
 *                         thread: workers, main, GC); the per-core figure that
 *                         holds on a machine shared with other work, so the
 *                         goals are checked against it
 */
import { rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { figure, log, timed, type Figure, type ScenarioResult } from '../bench-harness.ts';
import type { Scenario } from '../scenario.ts';

// No goals or Flink anchors here: these hand-written jobs run on co-partitioned keys with no shuffle,
// so they are not comparable with Flink's figures (issue 19). The comparison is bench/scenarios/nexmark-kafka.ts.

export interface EmbeddedRun {
  events: number;
  wallS: number;
  cpuS: number;
  checkpoints: number;
  out: number;
}

/** Runs a job module in this process (its workers are threads of it) and measures it. */
export async function runEmbedded(jobModule: string, settings: Settings, workers: number): Promise<EmbeddedRun> {
  const job = ((await import(jobModule)) as { default: JobDefinition<Settings> }).default;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  try {
    const runner = new JobRunner({ jobModule, job, settings, workers, stateDir: join(dir, 'state'), outputDir: join(dir, 'out') });
    await runner.start();
    const { value: summary, wallS, cpuS } = await timed(() => runner.wait());
    if (summary.state !== 'STOPPED') throw new Error(`${job.name} ended ${summary.state}`);
    const out = Object.values(summary.recordsOut).reduce((a, b) => a + b, 0);
    return { events: summary.recordsIn, wallS, cpuS, checkpoints: summary.checkpoints, out };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const nexmarkScenario: Scenario = {
  name: 'nexmark',
  description: 'Nexmark q0-q8 (and the bare generator) on the embedded runtime, 1 and 2 workers, discard sink',
  defaults: { events: 10_000_000, slowEvents: 2_000_000, slowQueries: 'q5,q5-windows', runs: 3, queries: 'gen,q0,q1,q2,q3,q5,q5-windows,q7,q8', workers: '1,2', partitions: 4, eventsPerSecond: 100_000, strings: 'reference' },
  async run(o): Promise<ScenarioResult> {
    const queries = String(o.queries).split(',');
    const workerCounts = String(o.workers).split(',').map(Number);
    const runs = Number(o.runs);
    // The embedded jobs are hand-written plans on the interleaved (co-partitioned) layout: no shuffle, so not comparable with Flink (see nexmark-kafka).
    const settings = { partitions: Number(o.partitions), events: Number(o.events), eventsPerSecond: Number(o.eventsPerSecond), sink: 'discard', layout: 'interleaved', strings: String(o.strings) };
    const figures: Figure[] = [];
    const outputs: Record<string, number> = {};
    const slow = new Set(String(o.slowQueries).split(','));
    const eventsOf = (q: string): number => (slow.has(q) ? Number(o.slowEvents) : Number(o.events));
    type Samples = { rate: number[]; perWorker: number[]; perCpu: number[]; cpuUse: number[] };
    const samples = new Map<string, Samples>();
    // Rounds outermost: every configuration runs once per round, so load from other work spreads over all of them.
    for (let r = 0; r < runs; r++) {
      for (const q of queries) {
        const jobModule = new URL(`../../jobs/nexmark/${q}.ts`, import.meta.url).href;
        for (const w of workerCounts) {
          const x = await runEmbedded(jobModule, { ...settings, events: eventsOf(q) }, w);
          const id = `${q}|${w}`;
          const s = samples.get(id) ?? { rate: [], perWorker: [], perCpu: [], cpuUse: [] };
          samples.set(id, s);
          s.rate.push(x.events / x.wallS);
          s.perWorker.push(x.events / x.wallS / w);
          s.perCpu.push(x.events / x.cpuS);
          s.cpuUse.push(x.cpuS / x.wallS);
          outputs[q] = x.out;
          log(`nexmark round ${r + 1}/${runs} ${q} workers=${w}: ${Math.round(x.events / x.wallS)} events/s, ${Math.round(x.events / x.cpuS)} per CPU-s, ${x.wallS.toFixed(1)} s, out ${x.out}`);
        }
      }
    }
    for (const q of queries) {
      for (const w of workerCounts) {
        const s = samples.get(`${q}|${w}`)!;
        const labels = { query: q, workers: w, events: eventsOf(q) };
        figures.push(figure(labels, 'events/s', 'events/s', s.rate));
        figures.push(figure(labels, 'events/s per worker', 'events/s', s.perWorker));
        figures.push(figure(labels, 'events per CPU-second', 'events/s', s.perCpu));
        figures.push(figure(labels, 'CPU cores busy', 'cores', s.cpuUse));
      }
    }
    return {
      settings: { ...settings, slowEvents: Number(o.slowEvents), slowQueries: [...slow], runs, workers: workerCounts, queries, checkpointIntervalMs: 1000, outputRecords: outputs },
      figures,
      notes: [
        'Hand-written plans on the interleaved layout: every key co-partitioned by the generator, so q3, q5 and q8 skip the shuffle a keyed stage needs; not comparable with Flink (the Kafka-fed scenario nexmark-kafka is).',
        `Strings: ${String(o.strings)} (reference: built a character at a time, as nexmark/nexmark does; pool: slices of a fixed pool, cheaper).`,
        'Generator in the worker threads (embedded), output into the discard sink; each run is a fresh JobRunner with fresh workers (cold JIT).',
        `${settings.partitions} partition actors in every configuration, so the events are identical for 1 and 2 workers.`,
        'q5 and q7 emit per-partition candidates; their final combine (P records per window) is not part of the job (see jobs/nexmark/q5.ts).',
        'gen is no query: every event straight to the sink (generator + runtime floor).',
        'q5 is hand-written (one non-keyed operator, per-batch combiner); q5-windows is the same query on the engine\'s windows library (keyed hopping count with panes, then the most-bid auctions per window).',
      ],
    };
  },
};

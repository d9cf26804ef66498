/**
 * The cost of metrics: throughput of the keyed counting job (embedded
 * generator → keyBy → keyed count in LMDB state → discard sink) with metrics
 * off and on, in one run of this script.
 *
 *   node --import tsx bench/metrics-overhead.ts [--pairs 5] [--records 8000000] [--scrape-ms 1000]
 *
 * "On" means what production means: `metricsPort` set (workers keep their
 * families and observer hooks run), and a client scraping /metrics every
 * `--scrape-ms` (Prometheus' default interval is 15 s; 1 s is the harsher
 * case, since every scrape makes every worker collect and the main thread
 * merge). Runs alternate off/on/on/off/... so drifting machine load hits both
 * sides alike. records/s counts input records over the job's whole life.
 *
 * Goal (issue 7): median(on) / median(off) >= 0.97. The script writes
 * bench/results/<YYYY-MM-DD>-metrics-overhead.json and exits 1 below the goal.
 */
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JobRunner } from '../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../engine/runtime/job-loader.ts';
import { figure, loadNow, log, median, writeScenarioResult, type Figure, type ScenarioResult } from './bench-harness.ts';

export interface Options {
  pairs: number;
  records: number;
  scrapeMs: number;
  workers: number;
}

const GOAL = 0.97;

interface Run {
  /** Input records per wall-clock second. */
  rate: number;
  /** Input records per CPU second of the whole process (all threads): less sensitive to other load on the machine. */
  cpuRate: number;
  scrapes: number;
}

async function runOnce(o: Options, metrics: boolean): Promise<Run> {
  const dir = join(tmpdir(), `sluice-bench-metrics-${process.pid}-${Date.now()}`);
  const url = resolveJobModule('keyed-count');
  const job = await loadJob(url);
  const per = Math.floor(o.records / 4);
  const r = new JobRunner({
    jobModule: url,
    job,
    settings: applySettings(job.settings, { source: 'generator', sink: 'discard', perPartition: String(per), keys: '10000' }),
    workers: o.workers,
    stateDir: join(dir, 'state'),
    outputDir: join(dir, 'out'),
    metricsPort: metrics ? 0 : undefined,
  });
  let scrapes = 0;
  let sawRecords = false;
  let timer: NodeJS.Timeout | undefined;
  let inflight: Promise<void> = Promise.resolve();
  const cpu0 = process.cpuUsage();
  try {
    await r.start();
    if (metrics) {
      const { port } = r.metricsAddress!;
      const scrape = (): void => {
        inflight = (async () => {
          try {
            const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
            scrapes++;
            sawRecords ||= /^sluice_records_in_total\{.*\} [1-9]/m.test(text);
          } catch {
            // The job finished between two scrapes and closed the endpoint.
          }
        })();
      };
      scrape();
      timer = setInterval(scrape, o.scrapeMs);
    }
    const s = await r.wait();
    const cpu = process.cpuUsage(cpu0);
    if (s.recordsIn !== per * 4) throw new Error(`expected ${per * 4} records in, got ${s.recordsIn}`);
    // Guards that "on" measured what it claims: scrapes happened, and those after the start saw counted records.
    if (metrics && (scrapes === 0 || (scrapes > 2 && !sawRecords))) throw new Error(`metrics on, but ${scrapes} scrapes saw no counted records`);
    return { rate: s.recordsIn / (s.elapsedMs / 1000), cpuRate: s.recordsIn / ((cpu.user + cpu.system) / 1e6), scrapes };
  } finally {
    clearInterval(timer);
    await inflight;
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureMetricsOverhead(o: Options): Promise<ScenarioResult & { ratio: number }> {
  const off: number[] = [];
  const on: number[] = [];
  const cpuOff: number[] = [];
  const cpuOn: number[] = [];
  const pairRatios: number[] = [];
  let scrapes = 0;
  // A warm-up run of each, not counted: the first run pays for module loading and JIT in the main thread.
  await runOnce({ ...o, records: Math.min(o.records, 1_000_000) }, false);
  await runOnce({ ...o, records: Math.min(o.records, 1_000_000) }, true);
  for (let i = 0; i < o.pairs; i++) {
    // off/on, then on/off: ABBA order cancels a linear drift in machine load.
    const order = i % 2 === 0 ? [false, true] : [true, false];
    const got: Record<string, number> = {};
    for (const m of order) {
      const r = await runOnce(o, m);
      (m ? on : off).push(r.rate);
      (m ? cpuOn : cpuOff).push(r.cpuRate);
      scrapes += r.scrapes;
      got[m ? 'on' : 'off'] = r.rate;
      log(
        `metrics-overhead: pair ${i + 1} metrics ${m ? 'on ' : 'off'}: ${Math.round(r.rate)} records/s, ` +
          `${Math.round(r.cpuRate)} records/CPU-s${m ? ` (${r.scrapes} scrapes)` : ''}`,
      );
    }
    pairRatios.push(got.on / got.off);
  }
  const ratio = median(on) / median(off);
  const cpuRatio = median(cpuOn) / median(cpuOff);
  const figures: Figure[] = [
    figure({ job: 'keyed-count', metrics: 'off' }, 'throughput', 'records/s', off),
    figure({ job: 'keyed-count', metrics: 'on' }, 'throughput', 'records/s', on),
    { ...figure({ job: 'keyed-count' }, 'on/off ratio of medians', 'ratio', [ratio]), goal: { op: '>=', value: GOAL, source: 'issue 7' } },
    figure({ job: 'keyed-count' }, 'on/off ratio per pair', 'ratio', pairRatios),
    figure({ job: 'keyed-count', metrics: 'off' }, 'throughput per CPU second', 'records/CPU-s', cpuOff),
    figure({ job: 'keyed-count', metrics: 'on' }, 'throughput per CPU second', 'records/CPU-s', cpuOn),
    figure({ job: 'keyed-count' }, 'on/off ratio of medians, per CPU second', 'ratio', [cpuRatio]),
  ];
  return {
    ratio,
    settings: { ...o, partitions: 4, keys: 10_000, sink: 'discard', checkpointIntervalMs: 1000 },
    notes: [
      `metrics on = metricsPort set and GET /metrics every ${o.scrapeMs} ms (${scrapes} scrapes in all); off = no metricsPort`,
      'runs alternate off/on and on/off in pairs; one uncounted warm-up run of each first',
      'records/s is input records over the job life, start-up included',
    ],
    figures,
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: { pairs: { type: 'string', default: '5' }, records: { type: 'string', default: '8000000' }, 'scrape-ms': { type: 'string', default: '1000' }, workers: { type: 'string', default: '2' } },
  });
  const o: Options = { pairs: Number(values.pairs), records: Number(values.records), scrapeMs: Number(values['scrape-ms']), workers: Number(values.workers) };
  const load = loadNow();
  const result = await measureMetricsOverhead(o);
  const command = `node --import tsx bench/metrics-overhead.ts ${process.argv.slice(2).join(' ')}`.trim();
  const file = writeScenarioResult('metrics-overhead', command, load, result);
  const verdict = result.ratio >= GOAL ? 'meets' : 'MISSES';
  log(`metrics-overhead: on/off = ${result.ratio.toFixed(4)} (${verdict} the goal >= ${GOAL}); wrote ${file}`);
  return result.ratio >= GOAL ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      console.error(err);
      process.exitCode = 1;
    },
  );
}

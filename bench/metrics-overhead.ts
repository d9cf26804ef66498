/**
 * The cost of metrics: throughput of the keyed counting job (embedded
 * generator → keyBy → keyed count in LMDB state → discard sink) with metrics
 * off and on, in one run of this script.
 *
 *   node --import tsx bench/metrics-overhead.ts [--pairs 10] [--records 16000000] [--scrape-ms 1000] [--workers 2]
 *   npm run bench -- metrics-overhead [--pairs 10 ...]
 *
 * "On" means what production means: `metricsPort` set (workers keep their
 * families and the observer hooks run), and a scraper fetching /metrics every
 * `--scrape-ms` (Prometheus' default interval is 15 s; 1 s is the harsher
 * case: every scrape makes every worker collect and the main thread merge).
 * The scraper is a separate process, as Prometheus would be, so its own HTTP
 * client work is not billed to the job; it lives for the whole benchmark
 * (idle during "off" runs), so starting it is not billed to "on" runs either.
 * Runs alternate in pairs, off/on then
 * on/off, so drifting machine load hits both sides alike; one uncounted
 * warm-up run of each goes first.
 *
 * Two throughputs per run: input records per wall-clock second over the
 * job's life (start-up included), and input records per CPU second of the
 * whole job process (all threads, the main thread's scrape handling
 * included). On a machine shared with other work the wall-clock figure mostly
 * measures the scheduler; CPU time per record is what metrics add, and varies
 * far less. For each, the result has the ratio of the medians, and the
 * median of the per-pair ratios (each pair ran back to back, under similar
 * load).
 *
 * Goal (issue 7): on/off >= 0.97. The script writes
 * bench/results/<YYYY-MM-DD>-metrics-overhead.json, prints every ratio, and
 * exits 1 when the per-pair median of either throughput misses the goal.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JobRunner } from '../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../engine/runtime/job-loader.ts';
import { builtinJobs } from '../jobs/registry.ts';
import { figure, loadNow, log, median, writeScenarioResult, type ScenarioResult } from './bench-harness.ts';

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
  /** Input records per CPU second of this process (all threads). */
  cpuRate: number;
  cpuS: number;
  scrapes: number;
}

/**
 * The scraper, a child process. Each line on its stdin is a URL to GET every
 * `every` ms from now on, or "-" to stop; it prints one line per successful
 * scrape, "1" if it saw a counted record, else "0".
 */
const SCRAPER = `
const every = Number(process.argv[1]);
let timer;
const once = (url) => fetch(url).then((r) => r.text()).then(
  (t) => process.stdout.write(/^sluice_records_in_total\\{.*\\} [1-9]/m.test(t) ? '1\\n' : '0\\n'),
  () => {},
);
require('node:readline').createInterface({ input: process.stdin }).on('line', (line) => {
  clearInterval(timer);
  if (line === '-') return;
  once(line);
  timer = setInterval(() => once(line), every);
});
`;

class Scraper {
  private readonly child: ChildProcess;
  private lines = '';

  constructor(everyMs: number) {
    this.child = spawn(process.execPath, ['-e', SCRAPER, String(everyMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.lines += d.toString()));
  }

  start(url: string): void {
    this.lines = '';
    this.child.stdin!.write(`${url}\n`);
  }

  /** Stops scraping; the results since start(). */
  stop(): string[] {
    this.child.stdin!.write('-\n');
    return this.lines.split('\n').filter(Boolean);
  }

  close(): void {
    this.child.kill();
  }
}

async function runOnce(o: Options, metrics: boolean, scraper: Scraper): Promise<Run> {
  const dir = join(tmpdir(), `sluice-bench-metrics-${process.pid}-${Date.now()}`);
  const url = resolveJobModule('keyed-count', builtinJobs);
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
  let seen: string[] = [];
  const cpu0 = process.cpuUsage();
  try {
    await r.start();
    if (metrics) scraper.start(`http://127.0.0.1:${r.metricsAddress!.port}/metrics`);
    const s = await r.wait();
    const cpu = process.cpuUsage(cpu0);
    if (metrics) seen = scraper.stop();
    if (s.recordsIn !== per * 4) throw new Error(`expected ${per * 4} records in, got ${s.recordsIn}`);
    // "On" must have measured what it claims: scrapes happened, and those after the start saw counted records.
    if (metrics && (seen.length === 0 || (seen.length > 2 && !seen.includes('1')))) throw new Error(`metrics on, but ${seen.length} scrapes saw no counted records`);
    const cpuS = (cpu.user + cpu.system) / 1e6;
    return { rate: s.recordsIn / (s.elapsedMs / 1000), cpuRate: s.recordsIn / cpuS, cpuS, scrapes: seen.length };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Verdicts {
  /** Median of the per-pair on/off ratios, wall clock and per CPU second: what the goal applies to. */
  pairRatio: number;
  cpuPairRatio: number;
}

export async function measureMetricsOverhead(o: Options): Promise<ScenarioResult & Verdicts> {
  const scraper = new Scraper(o.scrapeMs);
  try {
    return await measure(o, scraper);
  } finally {
    scraper.close();
  }
}

async function measure(o: Options, scraper: Scraper): Promise<ScenarioResult & Verdicts> {
  const runs = { off: [] as Run[], on: [] as Run[] };
  const pairs: Array<{ wall: number; cpu: number; msPerScrape: number }> = [];
  const warm = { ...o, records: Math.min(o.records, 1_000_000) };
  await runOnce(warm, false, scraper);
  await runOnce(warm, true, scraper);
  for (let i = 0; i < o.pairs; i++) {
    const got: Partial<Record<'on' | 'off', Run>> = {};
    for (const m of i % 2 === 0 ? [false, true] : [true, false]) {
      const r = await runOnce(o, m, scraper);
      const side = m ? 'on' : 'off';
      runs[side].push(r);
      got[side] = r;
      log(`metrics-overhead: pair ${i + 1} metrics ${m ? 'on ' : 'off'}: ${Math.round(r.rate)} records/s, ${Math.round(r.cpuRate)} records/CPU-s${m ? ` (${r.scrapes} scrapes)` : ''}`);
    }
    const { on, off } = got as Record<'on' | 'off', Run>;
    pairs.push({ wall: on.rate / off.rate, cpu: on.cpuRate / off.cpuRate, msPerScrape: (1000 * (on.cpuS - off.cpuS)) / Math.max(1, on.scrapes) });
  }
  const wall = (side: 'on' | 'off'): number[] => runs[side].map((r) => r.rate);
  const cpu = (side: 'on' | 'off'): number[] => runs[side].map((r) => r.cpuRate);
  const pairRatio = median(pairs.map((p) => p.wall));
  const cpuPairRatio = median(pairs.map((p) => p.cpu));
  const goal = { op: '>=' as const, value: GOAL, source: 'issue 7' };
  const k = { job: 'keyed-count' };
  return {
    pairRatio,
    cpuPairRatio,
    settings: { ...o, partitions: 4, keys: 10_000, sink: 'discard', checkpointIntervalMs: 1000 },
    notes: [
      `metrics on = metricsPort set and a separate process GETting /metrics every ${o.scrapeMs} ms (${runs.on.reduce((n, r) => n + r.scrapes, 0)} scrapes in all); off = no metricsPort`,
      'runs alternate off/on and on/off in pairs; one uncounted warm-up run of each first',
      'records/s: input records over the job life, start-up included; records/CPU-s: per CPU second of the job process, all threads',
      'the goal applies to the median of the per-pair ratios; with other work on the machine the wall-clock runs vary far more than the CPU ones (see min/max)',
    ],
    figures: [
      figure({ ...k, metrics: 'off' }, 'throughput', 'records/s', wall('off')),
      figure({ ...k, metrics: 'on' }, 'throughput', 'records/s', wall('on')),
      figure({ ...k, metrics: 'off' }, 'throughput per CPU second', 'records/CPU-s', cpu('off')),
      figure({ ...k, metrics: 'on' }, 'throughput per CPU second', 'records/CPU-s', cpu('on')),
      { ...figure(k, 'on/off, median of pair ratios', 'ratio', [pairRatio]), goal },
      { ...figure(k, 'on/off per CPU second, median of pair ratios', 'ratio', [cpuPairRatio]), goal },
      figure(k, 'on/off, ratio of medians', 'ratio', [median(wall('on')) / median(wall('off'))]),
      figure(k, 'on/off per CPU second, ratio of medians', 'ratio', [median(cpu('on')) / median(cpu('off'))]),
      figure(k, 'on/off per pair', 'ratio', pairs.map((p) => p.wall)),
      figure(k, 'on/off per pair, per CPU second', 'ratio', pairs.map((p) => p.cpu)),
      // Meaningful when scrapes are frequent enough to rise above run-to-run noise (e.g. --scrape-ms 50).
      figure(k, 'extra CPU per scrape (on minus off, per pair)', 'ms', pairs.map((p) => p.msPerScrape)),
    ],
  };
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      pairs: { type: 'string', default: '10' },
      records: { type: 'string', default: '16000000' },
      'scrape-ms': { type: 'string', default: '1000' },
      workers: { type: 'string', default: '2' },
    },
  });
  const o: Options = { pairs: Number(values.pairs), records: Number(values.records), scrapeMs: Number(values['scrape-ms']), workers: Number(values.workers) };
  for (const [k, v] of Object.entries(o)) if (!(Number.isInteger(v) && v > 0)) throw new Error(`--${k} must be a positive integer, got ${v}`);
  const load = loadNow();
  const result = await measureMetricsOverhead(o);
  const command = `node --import tsx bench/metrics-overhead.ts ${process.argv.slice(2).join(' ')}`.trim();
  // The standard run (1 s scrapes) is `metrics-overhead`; other intervals get their own file.
  const name = o.scrapeMs === 1000 ? 'metrics-overhead' : `metrics-overhead-scrape-${o.scrapeMs}ms`;
  const file = writeScenarioResult(name, command, load, result);
  const say = (x: number): string => `${x.toFixed(4)} (${x >= GOAL ? 'meets' : 'MISSES'} >= ${GOAL})`;
  log(`metrics-overhead: on/off records/s ${say(result.pairRatio)}, records/CPU-s ${say(result.cpuPairRatio)} (medians of pair ratios); load ${loadNow().join(' ')}`);
  log(`metrics-overhead: wrote ${file}`);
  return result.pairRatio >= GOAL && result.cpuPairRatio >= GOAL ? 0 : 1;
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

/**
 * Two (or more) versions of the engine side by side on the Kafka scenario's
 * data: before/after figures of a change on a shared machine, where only
 * runs taken in the same minutes compare. Each tree is a checkout of the
 * repository (`git worktree add`, or `git archive <commit> | tar -x`, with
 * node_modules beside it); each run is a fresh process started in that tree
 * (its own kafkajs, its own engine), contenders alternating round by round.
 *
 *   node --import tsx bench/kafka-ab.ts --brokers 127.0.0.1:9092 --orders 500000 --rounds 3 \
 *     --trees before=/tmp/before,after=. --contenders raw,sluice [--out bench/results/<file>.json]
 *
 * raw is kafka-raw.ts (kafkajs eachBatch + JSON.parse), sluice is
 * kafka-sluice.ts (the orders-payments job into a discard sink, 2 workers),
 * both as the tree has them. `latency:RATE` is the kafka scenario's latency
 * phase (kafka-latency.ts: the live producer at RATE records/s for 20 s
 * into fresh topics, checkpoints every 20 ms), reported as p50/p99/max. The data is preloaded once (kafka-data.ts).
 * Prints a line per run and writes a result file (render-readme.ts shows
 * it as a table).
 */
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as KafkaData from './scenarios/kafka-data.ts';
import type * as KafkaLatency from './scenarios/kafka-latency.ts';
import type * as KafkaRaw from './scenarios/kafka-raw.ts';
import type * as KafkaSluice from './scenarios/kafka-sluice.ts';
import type * as OrdersPaymentsJob from './scenarios/orders-payments-job.ts';

interface Row {
  round: number;
  tree: string;
  contender: string;
  records?: number;
  seconds?: number;
  cpuS?: number;
  recordsPerS?: number;
  recordsPerCpuS?: number;
  /** latency:RATE rows: percentiles of the end-to-end latency (ms), and the rate the producer managed. */
  p50Ms?: number;
  p99Ms?: number;
  maxMs?: number;
  producedPerS?: number;
  loadAvg1m: number;
}

/** The latency phase of the kafka scenario, at `rate`, with the modules of tree `dir`. */
async function latencyChild(dir: string, rate: number, brokers: string[], workers: number): Promise<Record<string, number>> {
  const mod = (p: string): string => pathToFileURL(resolve(dir, p)).href;
  const lat = (await import(mod('bench/scenarios/kafka-latency.ts'))) as typeof KafkaLatency;
  const op = (await import(mod('bench/scenarios/orders-payments-job.ts'))) as typeof OrdersPaymentsJob;
  const job = op.ordersPaymentsAvailability(resolve(dir), 'discard');
  const figs = await lat.measureLatency({ jobModule: job.module!, settingsFor: (ds) => op.ordersPaymentsSettings(job.module!, ds, 'discard', {}), brokers, partitions: 4, workers, rate, seconds: 20, checkpointIntervalMs: 20 });
  const m = (metric: string): number => figs.find((f) => f.metric === metric)?.median ?? NaN;
  return { p50Ms: m('p50'), p99Ms: m('p99'), maxMs: m('max'), producedPerS: Math.round(m('produced')) };
}

function arg(name: string, fallback?: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0 && process.argv[i + 1] !== undefined) return process.argv[i + 1];
  if (fallback === undefined) throw new Error(`--${name} is required`);
  return fallback;
}

/** Child mode: one run of one contender with the modules of tree `dir`; prints one JSON line. */
async function child(dir: string, contender: string, brokers: string[], orders: number, workers: number): Promise<void> {
  if (contender.startsWith('latency:')) {
    process.stdout.write(`${JSON.stringify(await latencyChild(dir, Number(contender.slice(8)), brokers, workers))}\n`);
    process.exit(0);
  }
  const mod = (p: string): string => pathToFileURL(resolve(dir, p)).href;
  const data = (await import(mod('bench/scenarios/kafka-data.ts'))) as typeof KafkaData;
  const d = await data.preload(brokers, data.datasetFor(orders, 4));
  const group = `kafka-ab-${contender}-${Date.now().toString(36)}`;
  let r: { records: number; seconds: number; cpuS: number };
  if (contender === 'raw') {
    const raw = (await import(mod('bench/scenarios/kafka-raw.ts'))) as typeof KafkaRaw;
    r = await raw.rawKafkajsCeiling(brokers, d, group, 900);
  } else {
    const sl = (await import(mod('bench/scenarios/kafka-sluice.ts'))) as typeof KafkaSluice;
    const op = (await import(mod('bench/scenarios/orders-payments-job.ts'))) as typeof OrdersPaymentsJob;
    const job = op.ordersPaymentsAvailability(resolve(dir), 'discard');
    r = await sl
      .runSluiceKafka({ jobModule: job.module!, settings: await op.ordersPaymentsSettings(job.module!, d, 'discard', {}), brokers, dataset: d, workers, groupId: group, timeoutS: 900, waitDelivered: false })
      .finally(() => data.deleteTopicsWithPrefix(brokers, `${group}-`).catch(() => []));
  }
  process.stdout.write(`${JSON.stringify({ records: r.records, seconds: r.seconds, cpuS: r.cpuS })}\n`);
  process.exit(0);
}

async function main(): Promise<void> {
  const brokers = arg('brokers').split(',');
  const orders = Number(arg('orders', '500000'));
  const workers = Number(arg('workers', '2'));
  if (process.argv[2] === 'child') return child(arg('tree'), arg('contender'), brokers, orders, workers);
  const rounds = Number(arg('rounds', '3'));
  const trees = arg('trees').split(',').map((t) => {
    const [name, dir] = t.split('=');
    return { name, dir: resolve(dir) };
  });
  const contenders = arg('contenders', 'raw,sluice').split(',');
  const self = new URL(import.meta.url).pathname;
  const rows: Row[] = [];
  const start = loadavg();
  for (let round = 1; round <= rounds; round++) {
    for (const contender of contenders) {
      for (const t of trees) {
        const out = execFileSync(process.execPath, ['--import', 'tsx', self, 'child', '--tree', t.dir, '--contender', contender, '--brokers', brokers.join(','), '--orders', String(orders), '--workers', String(workers)], {
          cwd: t.dir,
          encoding: 'utf8',
          stdio: ['ignore', 'pipe', 'inherit'],
          maxBuffer: 1 << 24,
        });
        const r = JSON.parse(out.trim().split('\n').pop()!) as Partial<Row>;
        const rates = r.records !== undefined ? { recordsPerS: Math.round(r.records / r.seconds!), recordsPerCpuS: Math.round(r.records / r.cpuS!) } : {};
        const row: Row = { round, tree: t.name, contender, ...r, ...rates, loadAvg1m: +loadavg()[0].toFixed(1) };
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
  }
  const file = arg('out', '');
  if (file) {
    const body = {
      scenario: arg('scenario', 'kafka-ab'),
      date: new Date().toISOString(),
      command: `node --import tsx bench/kafka-ab.ts ${process.argv.slice(2).join(' ')}`,
      machine: { cores: cpus().length, cpuModel: cpus()[0]?.model, node: process.version, platform: process.platform, arch: process.arch, totalMemMiB: Math.round(totalmem() / 2 ** 20), loadAvg1m: +loadavg()[0].toFixed(2) },
      loadAvg: { start, end: loadavg() },
      settings: { orders, workers, rounds, trees: trees.map((t) => t.name), contenders },
      results: rows,
    };
    writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`);
  }
}

await main();

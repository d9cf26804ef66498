/**
 * orders-payments over real Kafka: the job's throughput into MongoDB and into
 * a discard sink, next to the raw kafkajs consume rate of the same topics, in
 * the same run; and the issue's full exactly-once run (1,000,000 orders,
 * SIGKILLed 5 times).
 *
 *   npx tsx bench/orders-payments.ts [--orders 200000] [--runs 3] [--workers 2] [--partitions 4]
 *   npx tsx bench/orders-payments.ts --kills 5 --orders 1000000
 *
 * Throughput mode: the producer (`sluice produce orders-payments`, keyed,
 * default knobs but no invalid records, closing heartbeats) preloads the
 * topics once; each round then
 * runs, in this order, (a) kafkajs consuming both topics with eachBatch and
 * JSON-decoding every value (bench/scenarios/kafka-raw.ts), (b) the job into
 * a discard sink, (c) the job into MongoDB (FerretDB 1.24/SQLite, started
 * here); each under a fresh consumer group, so each reads every record.
 * Rates count records read (orders, payments, invalid records, heartbeats)
 * per second, from the first batch to the last record processed (b) or, for
 * (c), to the delivery of the checkpoint holding the last one
 * (bench/scenarios/kafka-sluice.ts). Run (c)'s collection is compared with
 * the expected output each round: a fast wrong run does not count.
 * Writes bench/results/<date>-orders-payments.json.
 *
 * Kill mode (--kills K): the job runs as a real `sluice` process while the
 * producer writes the orders at a rate that spreads them over the kills; the
 * process is SIGKILLed K times at random moments once it has written
 * documents of its own, and restarted; at the end the collection must equal
 * the expected output exactly. Writes bench/results/<date>-orders-payments-kills.json.
 *
 * Broker: --brokers, else SLUICE_KAFKA_BROKERS, else the `npm run kafka --
 * start` one, else one started here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { produceOrdersPayments, type ProduceResult } from '../cli/produce.ts';
import type { Settings } from '../engine/contracts/job.ts';
import job from '../jobs/orders-payments.ts';
import { expectedOutput, type Expected } from '../jobs/orders-payments/expected.ts';
import { planRecords, type PlanOptions } from '../jobs/orders-payments/stream-plan.ts';
import { kafkaStatus, startKafka } from '../engine/dev/servers/kafka.ts';
import { startFerretDb } from '../engine/dev/servers/ferretdb.ts';
import { figure, loadNow, log, writeScenarioResult, type Figure } from './bench-harness.ts';
import { collectionCount, compareCollection, endOffsets, expectedDeadLetters, groupCaughtUp, readDeadLetters, summarizeDeadLetters } from './lib/orders-payments-check.ts';
import { rawKafkajsCeiling } from './scenarios/kafka-raw.ts';
import { runSluiceKafka } from './scenarios/kafka-sluice.ts';
import type { Dataset } from './scenarios/kafka-data.ts';

const JOB_MODULE = pathToFileURL(fileURLToPath(new URL('../jobs/orders-payments.ts', import.meta.url))).href;
const BIN = fileURLToPath(new URL('../bin/sluice.js', import.meta.url));
const COLLECTION = 'orders_data_process_fact';
const TIMEOUT_MS = 15 * 60_000;
const SKEW_MS = 60_000;

const { values: args } = parseArgs({
  options: {
    orders: { type: 'string', default: '200000' },
    runs: { type: 'string', default: '3' },
    workers: { type: 'string', default: '2' },
    partitions: { type: 'string', default: '4' },
    kills: { type: 'string', default: '0' },
    seed: { type: 'string', default: '1' },
    brokers: { type: 'string' },
    contenders: { type: 'string', default: 'raw,discard,mongo' },
  },
});
const ORDERS = Number(args.orders);
const RUNS = Number(args.runs);
const WORKERS = Number(args.workers);
const PARTITIONS = Number(args.partitions);
const KILLS = Number(args.kills);
const SEED = Number(args.seed);
const command = `npx tsx bench/orders-payments.ts ${process.argv.slice(2).join(' ')}`.trim();

async function brokers(): Promise<{ list: string[]; stop?: () => Promise<void> }> {
  const given = args.brokers ?? process.env.SLUICE_KAFKA_BROKERS;
  if (given) return { list: given.split(',') };
  const status = await kafkaStatus();
  if (status.running && status.state) return { list: status.state.brokers.split(',') };
  const b = await startKafka({ log: (m) => log(`kafka: ${m}`) });
  return { list: b.brokers.split(','), stop: () => b.stop() };
}

function plan(extra: Partial<PlanOptions> = {}): Partial<PlanOptions> {
  return { orders: ORDERS, seed: SEED, badRecordRate: 0.001, timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS, ...extra };
}

function settingsFor(topics: { orders: string; payments: string }, sink: 'discard' | 'mongo', mongo?: { uri: string; db: string }): Settings {
  return { ...job.settings!, ordersTopic: topics.orders, paymentsTopic: topics.payments, sink, mongoUri: mongo?.uri ?? '', mongoDb: mongo?.db ?? 'unused' };
}

function verdict(cmp: Awaited<ReturnType<typeof compareCollection>>, want: Expected): string | undefined {
  if (cmp.count === want.facts.size && cmp.missing.length + cmp.unexpected.length + cmp.different.length === 0) return undefined;
  return `collection differs: ${cmp.count} documents for ${want.facts.size} expected; missing ${cmp.missing.join(',')}; unexpected ${cmp.unexpected.join(',')}; different ${JSON.stringify(cmp.different).slice(0, 500)}`;
}

async function throughput(b: string[]): Promise<void> {
  const startLoad = loadNow();
  const stamp = Date.now().toString(36);
  const topics = { orders: `bench-op-orders-${stamp}`, payments: `bench-op-payments-${stamp}` };
  log(`producing ${ORDERS} orders to ${topics.orders} / ${topics.payments}`);
  // No invalid records here: the raw contender JSON-decodes every value and cannot skip one.
  const tplan = plan({ badRecordRate: 0 });
  const produced: ProduceResult = await produceOrdersPayments({ brokers: b, ordersTopic: topics.orders, paymentsTopic: topics.payments, partitions: PARTITIONS, keyed: true, heartbeat: true, rate: 0, plan: tplan });
  const total = produced.orders + produced.payments + produced.bad + produced.heartbeats;
  log(`produced ${total} records in ${(produced.ms / 1000).toFixed(1)} s`);
  const want = expectedOutput(planRecords(tplan), { timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS });
  const dataset: Dataset = {
    ordersTopic: topics.orders,
    paymentsTopic: topics.payments,
    partitions: PARTITIONS,
    orders: ORDERS,
    orderRecords: produced.orders,
    paymentRecords: produced.payments,
    total,
    preloadS: produced.ms / 1000,
  };
  const contenders = String(args.contenders).split(',');
  const ferret = contenders.includes('mongo') ? await startFerretDb({ log: (m) => log(`ferretdb: ${m}`) }) : undefined;
  const rates = new Map<string, number[]>(contenders.map((c) => [c, []]));
  const docsPerS: number[] = [];
  const notes: string[] = [];
  try {
    for (let r = 0; r < RUNS; r++) {
      for (const c of contenders) {
        const group = `bench-op-${c}-${stamp}-${r}`;
        log(`round ${r + 1}/${RUNS} ${c}: starting (group ${group})`);
        if (c === 'raw') {
          const run = await rawKafkajsCeiling(b, dataset, group, 900);
          rates.get(c)!.push(run.records / run.seconds);
        } else {
          const db = `bench_op_${stamp}_${r}`;
          const run = await runSluiceKafka({
            jobModule: JOB_MODULE,
            settings: settingsFor(topics, c === 'mongo' ? 'mongo' : 'discard', ferret && { uri: ferret.uri, db }),
            brokers: b,
            dataset,
            workers: WORKERS,
            groupId: group,
            timeoutS: 1800,
            waitDelivered: c === 'mongo',
          });
          const secs = c === 'mongo' ? run.deliveredSeconds! : run.seconds;
          rates.get(c)!.push(run.records / secs);
          if (c === 'mongo') {
            docsPerS.push(want.facts.size / secs);
            const bad = verdict(await compareCollection(ferret!.uri, db, COLLECTION, want), want);
            if (bad) throw new Error(`round ${r}: ${bad}`);
          }
        }
        log(`round ${r + 1}/${RUNS} ${c}: ${Math.round(rates.get(c)!.at(-1)!)} records/s`);
      }
    }
  } finally {
    await ferret?.stop();
  }
  const names: Record<string, string> = { raw: '(a) raw kafkajs consume, eachBatch + JSON.parse', discard: '(b) orders-payments job, discard sink', mongo: '(c) orders-payments job, MongoDB sink (FerretDB)' };
  const figures: Figure[] = [];
  for (const c of contenders) figures.push(figure({ contender: names[c] ?? c }, 'records/s', 'records/s', rates.get(c)!));
  if (docsPerS.length) figures.push(figure({ contender: names.mongo }, 'documents/s', 'documents/s', docsPerS));
  for (const c of ['discard', 'mongo']) {
    if (rates.has(c) && rates.has('raw')) figures.push(figure({ contender: `ratio ${c} / raw (same round)` }, 'ratio', 'x', rates.get(c)!.map((x, i) => x / rates.get('raw')![i])));
  }
  notes.push(
    `${total} records per run: ${produced.orders} orders (duplicates included), ${produced.payments} payments, ${produced.heartbeats} heartbeats, no invalid records (the raw contender could not skip them); ${want.facts.size} documents out.`,
    'Each round runs raw, discard, mongo in that order under fresh consumer groups; the job runs in-process (main thread + worker threads, as `sluice run`).',
    'FerretDB 1.24 on SQLite is the MongoDB-wire server: its write path, not the job, bounds (c).',
    'Every (c) run\'s collection was compared with the expected output and was exact.',
  );
  const file = writeScenarioResult('orders-payments', command, startLoad, {
    settings: { orders: ORDERS, records: total, partitions: PARTITIONS, workers: WORKERS, runs: RUNS, seed: SEED, checkpointIntervalMs: 1000 },
    figures,
    notes,
  });
  log(`wrote ${file}`);
}

function startJob(extra: string[]): { child: ChildProcess; stderr: () => string; exited: Promise<number | string> } {
  const child = spawn(process.execPath, [BIN, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const exited = new Promise<number | string>((res) => child.once('exit', (code, sig) => res(code ?? sig ?? 'unknown')));
  return { child, stderr: () => err, exited };
}

async function until(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function killRun(b: string[]): Promise<void> {
  const startLoad = loadNow();
  const stamp = Date.now().toString(36);
  const topics = { orders: `bench-op-kill-orders-${stamp}`, payments: `bench-op-kill-payments-${stamp}` };
  const ferret = await startFerretDb({ log: (m) => log(`ferretdb: ${m}`) });
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-op-kill-'));
  const db = `bench_op_kill_${stamp}`;
  const group = `bench-op-kill-${stamp}`;
  const jobArgs = [
    'run', 'orders-payments', '--brokers', b.join(','), '--workers', String(WORKERS), '--state-dir', join(dir, 'state'), '--output-dir', join(dir, 'out'),
    '--group-id', group, '--session-timeout', '6000', '--no-progress',
    '--set', `ordersTopic=${topics.orders}`, '--set', `paymentsTopic=${topics.payments}`, '--set', `mongoUri=${ferret.uri}`, '--set', `mongoDb=${db}`,
  ];
  const want = expectedOutput(planRecords(plan()), { timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS });
  const dlqFrom = await endOffsets(b, 'orders-payments.dlq');
  const started = performance.now();
  try {
    // Spread the input over the kills, so each lands while records flow.
    const rate = Math.max(100, Math.round(ORDERS / Math.max(60, KILLS * 30)));
    let complete = false;
    const producing = produceOrdersPayments({ brokers: b, ordersTopic: topics.orders, paymentsTopic: topics.payments, partitions: PARTITIONS, keyed: true, heartbeat: true, rate, plan: plan() });
    void producing.then(() => (complete = true));
    await until('the topics', async () => (await endOffsets(b, topics.orders)).size > 0 && (await endOffsets(b, topics.payments)).size > 0, 60_000);
    const docs = (): Promise<number> => collectionCount(ferret.uri, db, COLLECTION).catch(() => 0);
    const kills: string[] = [];
    let r = SEED >>> 0;
    for (let k = 0; k < KILLS; k++) {
      const p = startJob(jobArgs);
      const before = await docs();
      const born = Date.now();
      let why = '';
      await until(`process #${k} to write documents`, async () => {
        const code = await Promise.race([p.exited, Promise.resolve(undefined)]);
        if (code !== undefined) throw new Error(`the job exited (${code}): ${p.stderr()}`);
        const n = await docs();
        if (n >= before + 1000) why = `${n - before} documents of its own`;
        // With the input complete there may be nothing left to write: kill it 5 s into its life then.
        else if (complete && Date.now() - born > 5_000) why = `input complete, ${n - before} documents of its own`;
        return why !== '';
      }, 600_000);
      r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
      const delay = Math.floor((r / 2 ** 32) * 1000);
      await new Promise((res) => setTimeout(res, delay));
      p.child.kill('SIGKILL');
      await p.exited;
      kills.push(`#${k}: ${Math.round((performance.now() - started) / 1000)} s, ${why}, +${delay} ms`);
      log(`kill ${kills.at(-1)}`);
    }
    const last = startJob(jobArgs);
    const produced = await producing;
    for (const t of [topics.orders, topics.payments]) await until(`the job to finish ${t}`, () => groupCaughtUp(b, group, t), 3 * 3_600_000);
    const elapsedS = (performance.now() - started) / 1000;
    last.child.kill('SIGTERM');
    const code = await last.exited;
    const cmp = await compareCollection(ferret.uri, db, COLLECTION, want);
    const bad = verdict(cmp, want);
    const { letters, copies } = await readDeadLetters(b, 'orders-payments.dlq', dlqFrom, 300_000);
    // Same reasons and counts, in any order; and no epoch's dead letters written twice.
    const canon = (x: Record<string, number>) => JSON.stringify(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1)));
    const dlqOk = canon(summarizeDeadLetters(letters)) === canon(expectedDeadLetters(want)) && copies === 0;
    if (bad || !dlqOk || code !== 0) {
      throw new Error(`NOT exact: ${bad ?? ''} dead letters ${JSON.stringify(summarizeDeadLetters(letters))} vs ${JSON.stringify(expectedDeadLetters(want))}, ${copies} copies; exit ${code}`);
    }
    const total = produced.orders + produced.payments + produced.bad + produced.heartbeats;
    const file = writeScenarioResult('orders-payments-kills', command, startLoad, {
      settings: { orders: ORDERS, records: total, documents: want.facts.size, kills: KILLS, rateOrdersPerS: rate, partitions: PARTITIONS, workers: WORKERS, seed: SEED },
      figures: [
        figure({ run: `${ORDERS} orders, ${KILLS} SIGKILLs` }, 'elapsed', 's', [elapsedS]),
        figure({ run: `${ORDERS} orders, ${KILLS} SIGKILLs` }, 'documents', 'documents', [cmp.count]),
        figure({ run: `${ORDERS} orders, ${KILLS} SIGKILLs` }, 'dead letters', 'records', [letters.length]),
      ],
      notes: [
        `Exact: the collection held ${cmp.count} documents, each equal to the expected output; ${letters.length} dead letters, ${copies} redelivered copies (by sluice-id), reasons as expected.`,
        `Input produced at ${rate} orders/s while the job ran, so the elapsed time is bounded by the producer; kills: ${kills.join('; ')}.`,
      ],
    });
    log(`exact after ${KILLS} kills; wrote ${file}`);
  } finally {
    await ferret.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const b = await brokers();
try {
  if (KILLS > 0) await killRun(b.list);
  else await throughput(b.list);
} finally {
  await b.stop?.();
}

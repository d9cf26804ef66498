/**
 * Throughput of the `wikipedia` job: events/s from a pre-filled Kafka topic
 * into the Parquet files, and until the BigQuery aggregates (emulator) are
 * complete.
 *
 *   node --import tsx bench/wikipedia-job.ts          (EVENTS=20000 ROUNDS=3)
 *
 * Input: the 100 recorded English Wikipedia edits, replayed EVENTS/100 times,
 * each replay shifted 140 s later in event time (the recording's span) and
 * with fresh ids, produced to a fresh 4-partition topic before the job
 * starts. Kafka: SLUICE_KAFKA_BROKERS, or a broker started here. BigQuery:
 * the emulator, started here (see engine/dev/servers/bigquery-emulator.ts).
 * Each round: fresh topic, state and output; the job runs in this process
 * (JobRunner, 2 workers). Reported per round: seconds until every event is in
 * a visible Parquet file (counted by DuckDB), and until the BigQuery table
 * wikipedia_formatted_changes holds as many rows as DuckDB's reference
 * aggregate. Results: bench/results/<date>-wikipedia-job.json.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BigQuery } from '@google-cloud/bigquery';
import { DuckDBInstance } from '@duckdb/node-api';
import { OAuth2Client } from 'google-auth-library';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { JobRunner } from '../engine/runtime/job-runner.ts';
import wikipediaJob from '../jobs/wikipedia.ts';
import type { Settings } from '../engine/contracts/job.ts';
import { startBigQueryEmulator } from '../engine/dev/servers/bigquery-emulator.ts';
import { startKafka } from '../engine/dev/servers/kafka.ts';
import { writeResults } from './state-harness.ts';

const EVENTS = Number(process.env.EVENTS ?? 20_000);
const ROUNDS = Number(process.env.ROUNDS ?? 3);
/** WAIT_BIGQUERY=0 measures the Parquet path only (the emulator's DML is the slow part). */
const WAIT_BIGQUERY = process.env.WAIT_BIGQUERY !== '0';
/** With WAIT_BIGQUERY=0 the aggregates go to a discard sink: the outbox delivers an epoch to every sink before the next, so the emulator's DML would pace the Parquet path too. */
const shared = new URL('../test/fixtures/wikimedia/', import.meta.url);
const base = readFileSync(new URL('polars_book_wikimedia.ndjson', shared), 'utf8').split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { meta: Record<string, unknown>; timestamp: number });

const broker = process.env.SLUICE_KAFKA_BROKERS ? undefined : await startKafka();
const brokers = process.env.SLUICE_KAFKA_BROKERS ?? broker!.brokers;
const emu = await startBigQueryEmulator({ projectId: 'bench' });
const auth = new OAuth2Client();
auth.setCredentials({ access_token: 'bench', expiry_date: 8.64e15 });
const bq = new BigQuery({ projectId: 'bench', apiEndpoint: emu.endpoint, authClient: auth });
const kafka = new Kafka({ clientId: 'bench', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
const duck = await (await DuckDBInstance.create(':memory:')).connect();
const count = async (q: string): Promise<number> => Number((await duck.runAndReadAll(q)).getRows()[0][0]);

const rounds: Array<{ parquetSec: number; steadyPerSec: number | undefined; bigquerySec: number; events: number; bqRows: number }> = [];
for (let round = 0; round < ROUNDS; round++) {
  const topic = `bench.wikipedia.${Date.now().toString(36)}`;
  const admin = kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 4 }], waitForLeaders: true });
  await admin.disconnect();
  const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
  for (let r = 0, n = 0; n < EVENTS; r++) {
    const messages = [];
    for (let i = 0; i < base.length && n < EVENTS; i++, n++) {
      const e = base[i];
      const ev = { ...e, timestamp: e.timestamp + r * 140, meta: { ...e.meta, id: `bench-${r}-${i}`, offset: n, dt: new Date((e.timestamp + r * 140) * 1000).toISOString() } };
      messages.push({ key: String(e.meta.domain), value: JSON.stringify(ev) });
    }
    await producer.send({ topic, messages });
  }
  await producer.disconnect();

  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-wiki-'));
  const dataset = `bench_${round}_${Date.now().toString(36)}`;
  const settings: Settings = { ...wikipediaJob.settings!, topic, bigqueryEndpoint: emu.endpoint, bigqueryProject: 'bench', bigqueryDataset: dataset, idleTimeoutMs: 2000, lateTopic: `${topic}.late`, aggregatesTo: WAIT_BIGQUERY ? 'bigquery' : 'discard' };
  const runner = new JobRunner({
    jobModule: new URL('../jobs/wikipedia.ts', import.meta.url).href,
    job: wikipediaJob as never,
    settings,
    brokers: brokers.split(','),
    stateDir: join(dir, 'state'),
    outputDir: join(dir, 'out'),
    groupId: `bench-${topic}`,
    workers: 2,
  });
  const glob = `read_parquet('${join(dir, 'out', 'wikipedia_recent_changes')}/*/*.parquet', hive_partitioning = true)`;
  const t0 = performance.now();
  await runner.start();
  let parquetSec = 0;
  let first: { sec: number; n: number } | undefined;
  for (;;) {
    const n = await count(`SELECT count(*) FROM ${glob}`).catch(() => 0);
    if (n > 0 && !first) first = { sec: (performance.now() - t0) / 1000, n };
    if (n >= EVENTS) {
      parquetSec = (performance.now() - t0) / 1000;
      break;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // After the first file: the job's own rate, without worker start and group join.
  const steadyPerSec = first && parquetSec > first.sec ? Math.round((EVENTS - first.n) / (parquetSec - first.sec)) : undefined;
  const want = await count(`SELECT count(*) FROM (SELECT DISTINCT meta_domain, title, title_url, bot, timestamp // 60 FROM ${glob})`);
  let bigquerySec = 0;
  for (; WAIT_BIGQUERY; ) {
    const [rows] = await bq.query({ query: `SELECT count(*) AS n FROM \`bench.${dataset}.wikipedia_formatted_changes\`` }).catch(() => [[{ n: 0 }]]);
    if (Number((rows as Array<{ n: number }>)[0].n) >= want) {
      bigquerySec = (performance.now() - t0) / 1000;
      break;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  await runner.stop();
  rmSync(dir, { recursive: true, force: true });
  rounds.push({ parquetSec: +parquetSec.toFixed(2), steadyPerSec, bigquerySec: +bigquerySec.toFixed(2), events: EVENTS, bqRows: want });
  console.log(`round ${round + 1}: ${EVENTS} events in Parquet after ${parquetSec.toFixed(2)} s (${Math.round(EVENTS / parquetSec)}/s from start, ${steadyPerSec}/s after the first file), ${want} BigQuery rows after ${bigquerySec.toFixed(2)} s`);
}

const stat = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], min: s[0], max: s[s.length - 1] };
};
const p = stat(rounds.map((r) => EVENTS / r.parquetSec));
const b = stat(rounds.map((r) => (r.bigquerySec > 0 ? EVENTS / r.bigquerySec : 0)));
const st = stat(rounds.map((r) => r.steadyPerSec ?? 0));
const results = {
  rounds,
  eventsPerSecToParquet: { median: Math.round(p.median), min: Math.round(p.min), max: Math.round(p.max) },
  eventsPerSecToParquetAfterFirstFile: st,
  eventsPerSecToBigQuery: { median: Math.round(b.median), min: Math.round(b.min), max: Math.round(b.max) },
  emulator: { startSec: +(emu.timings.startMs / 1000).toFixed(2), built: emu.timings.built },
};
console.log(JSON.stringify(results.eventsPerSecToParquet), JSON.stringify(results.eventsPerSecToBigQuery));
console.log(
  writeResults(WAIT_BIGQUERY ? 'wikipedia-job' : 'wikipedia-job-parquet', `EVENTS=${EVENTS} ROUNDS=${ROUNDS} WAIT_BIGQUERY=${WAIT_BIGQUERY ? 1 : 0} node --import tsx bench/wikipedia-job.ts`, results, `${EVENTS} events per round, ${ROUNDS} rounds; times from job start (includes worker start and the Kafka group join); job + Kafka + emulator on one 2-core machine`),
);
await emu.stop();
await broker?.stop();

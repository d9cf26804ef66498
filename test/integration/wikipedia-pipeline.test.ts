/**
 * Seed 000 end to end, on real servers: every recorded recentchange event
 * (plus derived new/log/categorize events and schema-breaking ones) served
 * by the local SSE replay server, which drops the connection mid-stream
 * twice; `wikipedia-ingest` writes them to Kafka; the `wikipedia` job runs
 * as a real `sluice` process, is killed with SIGKILL mid-run and restarted;
 * then:
 *   - the Parquet files (read by DuckDB) hold every valid event exactly once,
 *     in Hive layout;
 *   - the three BigQuery tables in the emulator equal aggregates computed
 *     independently, by DuckDB SQL over those Parquet files (sessions by a
 *     plain function over the same rows);
 *   - the schema-breaking events are in the dead-letter topic with ajv's
 *     errors, and nothing was late.
 */
import { BigQuery } from '@google-cloud/bigquery';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { OAuth2Client } from 'google-auth-library';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import ingestJob from '../../jobs/wikipedia-ingest.ts';
import type { Settings } from '../../engine/contracts/job.ts';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../engine/dev/servers/bigquery-emulator.ts';
import { createTopic, kafkaClient, readToEnd } from '../helpers/kafka.ts';
import { startSluice, waitFor, type SluiceProcess } from '../helpers/sluice-process.ts';
import { SseReplayServer } from '../helpers/sse-replay-server.ts';
import { tempDir } from '../helpers/temp.ts';
import { invalidEvents, recordedEventTexts, replayEvents, schemaPath, variants } from '../helpers/wikimedia-fixtures.ts';

const run = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4)}`;
let topic: string;
let lateTopic: string;
const project = 'sluice-test';
const dataset = `wiki_${run}`;

// Recorded events, with each derived variant right after the edit it was made
// from (same wiki, same second), and the invalid ones spread in between.
const recorded = recordedEventTexts();
const derived = variants().map((e) => JSON.stringify(e));
const invalid = invalidEvents().map((x) => JSON.stringify(x.event));
const texts = [...recorded.slice(0, 4)];
for (let i = 4; i < recorded.length; i++) {
  texts.push(recorded[i]);
  if (i - 4 < derived.length) texts.push(derived[i - 4]);
  if (i % 12 === 0 && invalid.length) texts.push(invalid.pop()!);
}
texts.push(...invalid.splice(0));
const validCount = recorded.length + derived.length;

let emu: BigQueryEmulator;
let sse: SseReplayServer;
let bq: BigQuery;
let duck: DuckDBConnection;
let brokers: string;

beforeAll(async () => {
  brokers = process.env.SLUICE_KAFKA_BROKERS!;
  // The job checks its source topic exists and counts its partitions at start.
  topic = await createTopic('wikipedia.recentchange', 4);
  lateTopic = await createTopic('wikipedia.late', 4);
  emu = await startBigQueryEmulator({ projectId: project });
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'test', expiry_date: 8.64e15 });
  bq = new BigQuery({ projectId: project, apiEndpoint: emu.endpoint, authClient: auth });
  // Slow enough for the job to be killed mid-run; two drops mid-event, one in split packets.
  sse = new SseReplayServer({
    events: replayEvents(texts),
    plans: [{ dropAfterEvents: 37, eventDelayMs: 50 }, { dropAfterEvents: 29, splitBytes: 257, eventDelayMs: 50 }],
    defaultPlan: { eventDelayMs: 50 },
    noContentAtEnd: true,
    // The job is killed while the feed waits here, after both drops, and the feed goes on
    // once it is down: mid-stream on any machine, without racing the replay's pace.
    holdBeforeEvent: Math.max(80, Math.floor(texts.length / 2)),
  });
  await sse.start();
  duck = await (await DuckDBInstance.create(':memory:')).connect();
});

afterAll(async () => {
  await sse?.stop();
  await emu?.stop();
});

async function dlqEndOffsets(): Promise<Map<number, string>> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const topics = await admin.listTopics();
    if (!topics.includes('wikipedia.dlq')) return new Map();
    return new Map((await admin.fetchTopicOffsets('wikipedia.dlq')).map((p) => [p.partition, p.offset]));
  } finally {
    await admin.disconnect();
  }
}

/** Every record of `t` after `from` (per partition), read until it has been quiet for a second. */
async function readTopic(t: string, from: Map<number, string> = new Map()): Promise<unknown[]> {
  const start = new Map([...from].map(([p, o]) => [p, Number(o)]));
  return (await readToEnd(t, start)).map((r) => JSON.parse(r.value!.toString()) as unknown);
}

async function sql<T>(q: string): Promise<T[]> {
  const r = await duck.runAndReadAll(q);
  return (r.getRowObjectsJS() as Array<Record<string, unknown>>).map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v])),
  ) as T[];
}

async function bqRows<T>(q: string): Promise<T[]> {
  const [rows] = await bq.query({ query: q });
  return (rows as Array<Record<string, unknown>>).map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v !== null && typeof v === 'object' && 'value' in v ? Date.parse(String((v as { value: string }).value)) : v])),
  ) as T[];
}

describe('wikipedia pipeline: SSE -> Kafka -> Parquet + BigQuery', () => {
  it('delivers every valid event once and exact aggregates, through SSE drops and a SIGKILL of the job', async () => {
    const out = tempDir('sluice-wiki-out-');
    const state = tempDir('sluice-wiki-state-');
    const dlqFrom = await dlqEndOffsets();

    // The job, as a real process; the ingest starts once it runs.
    const args = [
      'run', 'wikipedia', '--brokers', brokers, '--state-dir', state, '--output-dir', out, '--group-id', `wiki-${run}`,
      '--checkpoint-interval', '200', '--session-timeout', '6000', '--no-progress',
      '--set', `topic=${topic}`, '--set', `lateTopic=${lateTopic}`, '--set', `schemaPath=${schemaPath()}`,
      '--set', `bigqueryEndpoint=${emu.endpoint}`, '--set', `bigqueryProject=${project}`, '--set', `bigqueryDataset=${dataset}`,
      '--set', 'idleTimeoutMs=3000',
    ];
    const raw = join(out, 'wikipedia_recent_changes');
    const files = (): string[] => (existsSync(raw) ? readdirSync(raw).flatMap((d) => readdirSync(join(raw, d)).filter((f) => f.endsWith('.parquet'))) : []);
    let job: SluiceProcess = startSluice(args);
    const t0 = Date.now();
    const step = (m: string) => console.log(`[wikipedia test +${((Date.now() - t0) / 1000).toFixed(1)}s] ${m}`);
    const wait = (what: string, fn: () => Promise<boolean> | boolean, ms: number, every = 200) =>
      waitFor(what, fn, ms, every).catch((err: Error) => {
        throw new Error(`${err.message}\njob stderr (tail):\n${job.stderr().slice(-3000)}\njob stdout (tail):\n${job.stdout().slice(-1500)}`);
      });
    // The sinks create the table directory when they open: then start the feed.
    await wait('the job to open its sinks', () => existsSync(raw), 60_000, 50);
    step('job opened its sinks');

    // Ingest, in this process (worker threads), until the replay server answers 204.
    const ingestSettings: Settings = { ...ingestJob.settings!, url: sse.url, topic, backoffMs: 20, maxBackoffMs: 200 };
    const ingest = new JobRunner({
      jobModule: new URL('../../jobs/wikipedia-ingest.ts', import.meta.url).href,
      job: ingestJob as never,
      settings: ingestSettings,
      brokers: brokers.split(','),
      stateDir: tempDir('sluice-ingest-state-'),
      outputDir: tempDir('sluice-ingest-out-'),
      checkpointIntervalMs: 200,
    });
    await ingest.start();

    // Kill it once some epochs are committed and delivered, while events are still arriving.
    await wait('the first Parquet files', () => files().length >= 2, 60_000, 50);
    await wait('the feed to reach its hold point', () => sse.holding, 60_000, 50);
    step(`killing the job: ${files().length} files, SSE connection ${sse.connections.length}`);
    expect(sse.connections.at(-1)!.status).toBe(200); // the replay is still going
    job.child.kill('SIGKILL');
    expect(await job.exited).toBe('SIGKILL');
    sse.release(); // events arrive in Kafka while the job is down, and after it restarts
    job = startSluice(args);

    step('restarted the job');
    const summary = await ingest.wait();
    step(`ingest done: ${summary.recordsIn} events`);
    expect(summary.recordsIn).toBe(texts.length);
    // Drops mid-event, each reconnect resumed after the last complete event.
    expect(sse.connections.filter((c) => c.dropped)).toHaveLength(2);
    expect(sse.connections.at(-1)!.status).toBe(204);

    const glob = `read_parquet('${raw}/*/*.parquet', hive_partitioning = true)`;
    await wait('every valid event in Parquet', async () => files().length > 0 && (await sql<{ n: number }>(`SELECT count(*) AS n FROM ${glob}`))[0].n >= validCount, 60_000, 500);

    // Reference aggregates over the Parquet output, by DuckDB.
    const refFormatted = await sql<Record<string, unknown>>(`
      SELECT meta_domain AS wiki, title, title_url, CASE WHEN bot = false THEN '0' ELSE '1' END AS is_bot,
             (timestamp // 60) * 60000 AS formatted_timestamp, count(DISTINCT comment) AS count_comments, count(*) FILTER (type = 'edit') AS edit_count, count(*) AS event_count,
             ((timestamp // 86400) * 86400000) AS ts
      FROM ${glob} GROUP BY ALL ORDER BY ALL`);
    step('all events in Parquet');
    await wait('the windows to close into BigQuery', async () => {
      const [n] = await bqRows<{ n: number }>(`SELECT count(*) AS n FROM \`${project}.${dataset}.wikipedia_formatted_changes\``).catch(() => [{ n: 0 }]);
      return n.n >= refFormatted.length;
    }, 60_000, 500);
    step('BigQuery complete; stopping the job');
    job.child.kill('SIGTERM');
    expect(await job.exited).toBe(0);

    // Parquet: every valid event exactly once, in the day directory of its timestamp.
    const perEvent = await sql<{ meta_id: string; n: number; ts: string; day: string }>(
      `SELECT meta_id, count(*) AS n, any_value(ts)::VARCHAR AS ts, strftime(to_timestamp(any_value(timestamp)), '%Y%m%d') AS day FROM ${glob} GROUP BY meta_id`,
    );
    expect(perEvent).toHaveLength(validCount);
    expect(perEvent.filter((r) => r.n !== 1)).toEqual([]);
    expect(perEvent.filter((r) => r.ts !== r.day)).toEqual([]);
    const wantIds = [...recorded, ...derived].map((t) => (JSON.parse(t) as { meta: { id: string } }).meta.id).sort();
    expect(perEvent.map((r) => r.meta_id).sort()).toEqual(wantIds);
    expect(readdirSync(raw).sort()).toEqual(['ts=20221211', 'ts=20230729']);

    // BigQuery, table 1: the seed's aggregate, per minute.
    const formatted = await bqRows<Record<string, unknown>>(
      `SELECT wiki, title, title_url, is_bot, formatted_timestamp, count_comments, edit_count, event_count, ts FROM \`${project}.${dataset}.wikipedia_formatted_changes\` ORDER BY wiki, title, title_url, is_bot, formatted_timestamp`,
    );
    const order = (a: Record<string, unknown>, b: Record<string, unknown>) => JSON.stringify(Object.values(a)).localeCompare(JSON.stringify(Object.values(b)));
    const cols = (r: Record<string, unknown>) => ({ wiki: r.wiki, title: r.title, title_url: r.title_url, is_bot: r.is_bot, formatted_timestamp: r.formatted_timestamp, count_comments: r.count_comments, edit_count: r.edit_count, event_count: r.event_count, ts: r.ts });
    expect(formatted.map(cols).sort(order)).toEqual(refFormatted.map(cols).sort(order));
    expect(formatted.some((r) => (r.count_comments as number) > 1)).toBe(true);
    // edit_count counts edits only: the derived new/log/categorize events are in event_count alone.
    expect(formatted.some((r) => (r.event_count as number) > (r.edit_count as number))).toBe(true);

    // Table 2: per wiki per minute.
    const refWiki = await sql<Record<string, unknown>>(`
      SELECT meta_domain AS wiki, (timestamp // 60) * 60000 AS window_start, count(*) AS events,
             count(*) FILTER (type = 'edit') AS edits, count(*) FILTER (type = 'new') AS new_pages,
             count(*) FILTER (type = 'log') AS log_events, count(*) FILTER (type = 'categorize') AS categorize_events,
             count(*) FILTER (type = 'edit' AND bot = true) AS bot_edits, count(*) FILTER (type = 'edit' AND bot = false) AS human_edits,
             coalesce(sum(coalesce(length_new, 0) - coalesce(length_old, 0)) FILTER (length_new IS NOT NULL OR length_old IS NOT NULL), 0) AS bytes_changed
      FROM ${glob} GROUP BY ALL ORDER BY ALL`);
    const wiki = await bqRows<Record<string, unknown>>(
      `SELECT wiki, window_start, events, edits, new_pages, log_events, categorize_events, bot_edits, human_edits, bytes_changed FROM \`${project}.${dataset}.wikipedia_wiki_minute_stats\` ORDER BY wiki, window_start`,
    );
    expect(wiki).toEqual(refWiki);

    // Table 3: sessions, by a plain function over the Parquet rows.
    const edits = await sql<{ wiki: string; user: string; t: number }>(`SELECT meta_domain AS wiki, "user", timestamp * 1000 AS t FROM ${glob} WHERE type IN ('edit', 'new') ORDER BY 1, 2, 3`);
    const refSessions: Array<Record<string, unknown>> = [];
    for (const e of edits) {
      const last = refSessions.at(-1);
      if (last && last.wiki === e.wiki && last.user === e.user && e.t < (last.session_end as number) + 30 * 60_000) {
        last.session_end = e.t;
        last.edit_count = (last.edit_count as number) + 1;
      } else refSessions.push({ wiki: e.wiki, user: e.user, session_start: e.t, session_end: e.t, edit_count: 1 });
    }
    for (const s of refSessions) s.length_seconds = ((s.session_end as number) - (s.session_start as number)) / 1000;
    const sessions = await bqRows<Record<string, unknown>>(
      `SELECT wiki, user, session_start, session_end, edit_count, length_seconds FROM \`${project}.${dataset}.wikipedia_user_sessions\` ORDER BY wiki, user, session_start`,
    );
    expect(sessions).toEqual(refSessions);

    // Dead letters: each schema-breaking event, with the validator's reason; nothing late.
    await wait('every dead letter', async () => (await readTopic('wikipedia.dlq', dlqFrom)).length >= invalidEvents().length, 60_000, 500);
    const dlq = (await readTopic('wikipedia.dlq', dlqFrom)) as Array<{ reason: string; error: { message: string }; value: unknown }>;
    expect(dlq.map((d) => d.reason)).toEqual(invalidEvents().map(() => 'validation_failed'));
    const messages = dlq.map((d) => d.error.message).sort();
    for (const { breaks } of invalidEvents()) expect(messages.some((m) => m.includes(breaks))).toBe(true);
    expect(await readTopic(lateTopic)).toEqual([]);
  });
});

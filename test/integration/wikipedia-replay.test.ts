/**
 * A replay of recorded Wikipedia events in two bursts with a pause between
 * them longer than the job's idle timeout, then `--until end`: the result is
 * final and exact.
 *
 * With idle advance by the wall clock (the live-stream setting) the pause
 * moved every partition's watermark to "now", and the whole second burst,
 * whose event times are in 2022-2023, was late: rows of
 * wikipedia_wiki_minute_stats were wrong or missing. A replay runs with
 * `idleAdvance=off`, and ends with `sluice run wikipedia --until end`, which
 * closes the windows still open; `sluice status` then shows watermark `end`.
 */
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../engine/dev/servers/bigquery-emulator.ts';
import type { RecentChange } from '../../jobs/wikipedia/recent-change.ts';
import { createTopic, kafkaBrokers, kafkaClient, readToEnd, uniqueName } from '../helpers/kafka.ts';
import { runSluice, sleep, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { recordedEvents, schemaPath, variants } from '../helpers/wikimedia-fixtures.ts';
import { groupCaughtUp } from './engine-kafka-helpers.ts';

const project = 'sluice-test';
const dataset = `wiki_replay_${Date.now().toString(36)}`;
const IDLE_MS = 2000;

let emu: BigQueryEmulator;
let bq: BigQuery;

beforeAll(async () => {
  emu = await startBigQueryEmulator({ projectId: project });
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'test', expiry_date: 8.64e15 });
  bq = new BigQuery({ projectId: project, apiEndpoint: emu.endpoint, authClient: auth });
});

afterAll(async () => {
  await emu?.stop();
});

async function bqRows<T>(q: string): Promise<T[]> {
  const [rows] = await bq.query({ query: q });
  return (rows as Array<Record<string, unknown>>).map((row) =>
    Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v !== null && typeof v === 'object' && 'value' in v ? Date.parse(String((v as { value: string }).value)) : v])),
  ) as T[];
}

/** wikipedia_wiki_minute_stats computed directly from the events, ordered by wiki and window. */
function wikiMinuteReference(events: RecentChange[]): Array<Record<string, unknown>> {
  const rows = new Map<string, Record<string, number | string>>();
  for (const e of events) {
    const start = Math.floor(e.timestamp! / 60) * 60_000;
    const wiki = e.meta.domain ?? '';
    const k = `${wiki}|${start}`;
    let r = rows.get(k);
    if (!r) rows.set(k, (r = { wiki, window_start: start, events: 0, edits: 0, new_pages: 0, log_events: 0, categorize_events: 0, bot_edits: 0, human_edits: 0, bytes_changed: 0 }));
    const add = (col: string, n = 1) => ((r[col] as number) += n);
    add('events');
    if (e.type === 'edit') add('edits');
    if (e.type === 'new') add('new_pages');
    if (e.type === 'log') add('log_events');
    if (e.type === 'categorize') add('categorize_events');
    if (e.type === 'edit' && e.bot === true) add('bot_edits');
    if (e.type === 'edit' && e.bot === false) add('human_edits');
    if (e.length) add('bytes_changed', (e.length.new ?? 0) - (e.length.old ?? 0));
  }
  return [...rows.values()].sort((a, b) => (a.wiki === b.wiki ? (a.window_start as number) - (b.window_start as number) : String(a.wiki) < String(b.wiki) ? -1 : 1));
}

describe('wikipedia replayed in two bursts, then --until end', () => {
  it('gives exact wikipedia_wiki_minute_stats rows, nothing late, and status says the results are final', async () => {
    const topic = await createTopic('wikipedia.recentchange', 4);
    const lateTopic = await createTopic('wikipedia.late', 4);
    const group = uniqueName('wiki-replay');
    const events = [...recordedEvents(), ...variants()].sort((a, b) => a.timestamp! - b.timestamp!);
    const half = Math.floor(events.length / 2);
    const common = [
      'wikipedia', '--brokers', kafkaBrokers().join(','), '--group-id', group, '--state-dir', tempDir(),
      '--set', `topic=${topic}`, '--set', `lateTopic=${lateTopic}`, '--set', `schemaPath=${schemaPath()}`,
      '--set', `bigqueryEndpoint=${emu.endpoint}`, '--set', `bigqueryProject=${project}`, '--set', `bigqueryDataset=${dataset}`,
      '--set', `idleTimeoutMs=${IDLE_MS}`, '--set', 'idleAdvance=off',
    ];
    const run = ['run', ...common, '--output-dir', tempDir(), '--checkpoint-interval', '200', '--no-progress'];
    const producer = kafkaClient().producer();
    await producer.connect();
    const send = (batch: RecentChange[]) => producer.send({ topic, messages: batch.map((e) => ({ key: e.meta.domain ?? null, value: JSON.stringify(e) })) });

    const job = startSluice(run);
    await send(events.slice(0, half));
    await waitFor('the first burst read', () => groupCaughtUp(group, topic), 90_000, 300);
    // The replay's pause (the input's shape, not a synchronisation): longer than the idle timeout,
    // counted from when the job had read the whole first burst.
    await sleep(3 * IDLE_MS);
    await send(events.slice(half));
    await producer.disconnect();
    await waitFor('the second burst read', () => groupCaughtUp(group, topic), 90_000, 300);
    job.child.kill('SIGTERM');
    expect(await job.exited, job.stderr()).toBe(0);

    // Windows the watermark has not passed are still open: not final yet, and status says so.
    const before = await runSluice(['status', ...common]);
    expect(before.code, before.stderr).toBe(0);
    const open = [...before.stdout.matchAll(/watermark (\S+) +windows (\d+|-)/g)];
    expect(open.some((m) => m[1] !== 'end' && Number(m[2]) > 0), before.stdout).toBe(true);

    const bounded = await runSluice([...run, '--until', 'end']);
    expect(bounded.code, bounded.stderr).toBe(0);
    const after = await runSluice(['status', ...common]);
    expect(after.code, after.stderr).toBe(0);
    expect([...after.stdout.matchAll(/watermark (\S+) +windows (\S+) +timers (\S+)/g)].map((m) => m.slice(1)), after.stdout).toEqual([0, 1, 2, 3].map(() => ['end', '0', '0']));

    const want = wikiMinuteReference(events);
    expect(want.length).toBeGreaterThan(3);
    const got = await bqRows<Record<string, unknown>>(
      `SELECT wiki, window_start, events, edits, new_pages, log_events, categorize_events, bot_edits, human_edits, bytes_changed FROM \`${project}.${dataset}.wikipedia_wiki_minute_stats\` ORDER BY wiki, window_start`,
    );
    expect(got).toEqual(want);
    // edit_count counts edits only; every event is in event_count.
    const formatted = await bqRows<{ edit_count: number; event_count: number }>(`SELECT edit_count, event_count FROM \`${project}.${dataset}.wikipedia_formatted_changes\``);
    expect(formatted.reduce((a, r) => a + r.event_count, 0)).toBe(events.length);
    expect(formatted.reduce((a, r) => a + r.edit_count, 0)).toBe(events.filter((e) => e.type === 'edit').length);
    expect(await readToEnd(lateTopic)).toEqual([]);
  });
});

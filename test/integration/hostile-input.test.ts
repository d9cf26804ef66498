/**
 * Issue 18: a hostile-input property test against the real jobs over the
 * real broker. fast-check generates runs (test/helpers/hostile-input.ts):
 * small batches of records, valid ones mixed with deep nesting up to 100,000
 * levels, values at the broker limit and over it, strings of quotes and
 * backslashes, invalid UTF-8, numbers such as 1e400, -0 and NaN strings,
 * wrong types, impossible dates, and the empty or null value. Each run is
 * produced to the job's topics; ONE job process (the `sluice` CLI) consumes
 * every run, so 200 runs fit in minutes on two cores; then the checker goes
 * over every record of every run. It passes only if the job never stopped,
 * every valid record is in the output exactly once (orders-payments: joined
 * with its payment, once), every invalid record is exactly one dead letter
 * with its reason (and the limit it broke), and /healthz answered 200 every
 * time it was asked while the job ran.
 *
 * SLUICE_HOSTILE_RUNS sets the runs per job (default 200).
 */
import { DuckDBInstance } from '@duckdb/node-api';
import fc from 'fast-check';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { sendHeartbeats } from '../../cli/produce.ts';
import { groupCaughtUp, readDeadLetters } from '../../bench/lib/orders-payments-check.ts';
import { startPostgres, type PostgresServer } from '../../engine/dev/servers/postgres.ts';
import { userId } from '../../jobs/users/user-row.ts';
import { check, runArbitrary, type GenRecord, type JobShape } from '../helpers/hostile-input.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { recordedUsers } from '../helpers/randomuser-server.ts';
import { startSluice, waitFor, type SluiceProcess } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { recordedEvents, schemaPath } from '../helpers/wikimedia-fixtures.ts';

const RUNS = Number(process.env.SLUICE_HOSTILE_RUNS ?? 200);
const T0 = Date.UTC(2024, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();
const uuid = (n: number): string => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

interface Letter {
  key: string | null;
  reason: string;
  limit?: { name: string };
}

/** Polls /healthz while the job runs; every answer that is not 200 is kept. */
function watchHealth(p: SluiceProcess): { stop(): Promise<{ asked: number; bad: string[] }> } {
  let asked = 0;
  const bad: string[] = [];
  let done = false;
  const loop = (async () => {
    while (!done) {
      const m = /status page at (http:\/\/[^/\s]+)\//.exec(p.stderr());
      if (m) {
        try {
          const r = await fetch(`${m[1]}/healthz`);
          asked++;
          if (r.status !== 200) bad.push(`${r.status} ${await r.text()}`);
        } catch (err) {
          bad.push(`no answer: ${(err as Error).message}`);
        }
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  })();
  return {
    async stop() {
      done = true;
      await loop;
      return { asked, bad };
    },
  };
}

/**
 * Generates RUNS runs with fast-check and produces each to Kafka; returns
 * every record with what it must become. A record over the broker's limit
 * must be refused by the send.
 */
async function produceRuns(shape: JobShape, seed: number): Promise<GenRecord[]> {
  const producer = kafkaClient().producer();
  await producer.connect();
  const all: GenRecord[] = [];
  let run = 0;
  await fc.assert(
    fc.asyncProperty(runArbitrary(shape), async (makers) => {
      const records = makers.flatMap((make, i) => make(`k${run * 10 + i}`, run * 10 + i));
      run++;
      for (const r of records) {
        const send = producer.send({ topic: r.topic, acks: -1, messages: [{ key: r.key, value: r.value }] });
        if (r.expect.kind === 'refused') await expect(send).rejects.toThrow();
        else await send;
      }
      all.push(...records);
    }),
    { numRuns: RUNS, seed, endOnFailure: true },
  );
  return all;
}

async function runJob(args: string[], topics: string[], group: string, shape: JobShape, seed: number, afterProduce?: () => Promise<void>): Promise<{ records: GenRecord[]; p: SluiceProcess; health: { asked: number; bad: string[] } }> {
  const p = startSluice(['run', ...args, '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', tempDir(), '--group-id', group, '--checkpoint-interval', '300', '--no-progress', '--metrics-port', '0']);
  let exited: number | string | undefined;
  void p.exited.then((c) => (exited = c));
  const health = watchHealth(p);
  await waitFor('the job to start', () => exited !== undefined || p.stderr().includes('sluice: running'), 120_000);
  const records = await produceRuns(shape, seed);
  await afterProduce?.();
  for (const t of topics) await waitFor(`the job to consume ${t}`, async () => exited !== undefined || (await groupCaughtUp(kafkaBrokers(), group, t)), 600_000, 500);
  expect(exited, `the job stopped on its own:\n${p.stderr().slice(-4000)}`).toBeUndefined();
  return { records, p, health: await health.stop() };
}

async function stop(p: SluiceProcess): Promise<void> {
  p.child.kill('SIGTERM');
  expect(await p.exited, p.stderr().slice(-4000)).toBe(0);
}

function verdict(records: GenRecord[], letters: Letter[], output: Map<string, number>, health: { asked: number; bad: string[] }, seed: number): void {
  const problems = check(records, letters, output);
  const kinds = records.reduce<Record<string, number>>((m, r) => ((m[r.expect.kind === 'invalid' ? r.expect.reason : r.expect.kind] = (m[r.expect.kind === 'invalid' ? r.expect.reason : r.expect.kind] ?? 0) + 1), m), {});
  expect(problems.slice(0, 30), `seed ${seed}; ${problems.length} problems; records ${JSON.stringify(kinds)}`).toEqual([]);
  expect(health.bad, `seed ${seed}`).toEqual([]);
  expect(health.asked).toBeGreaterThan(0);
  // The generator covered every kind (a short run, SLUICE_HOSTILE_RUNS < 100, may miss the rare ones).
  if (RUNS >= 100) for (const k of ['valid', 'refused', 'decode_error', 'validation_failed', 'limit_exceeded']) expect(kinds[k] ?? 0, `${k} in ${JSON.stringify(kinds)}`).toBeGreaterThan(0);
}

const dlqLetters = async (topic: string): Promise<Letter[]> => (await readDeadLetters(kafkaBrokers(), topic, new Map(), 120_000)).letters as unknown as Letter[];

describe(`hostile input, ${RUNS} fast-check runs per job, against the real jobs over Kafka (issue 18)`, () => {
  it('orders-payments: every valid order joins its payment exactly once, every invalid record is one dead letter with its reason', { timeout: 1_200_000 }, async () => {
    const seed = Number(process.env.SLUICE_HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const orders = await createTopic('hostile-orders', 1);
    const payments = await createTopic('hostile-payments', 1);
    const dlq = uniqueName('hostile-op-dlq');
    const out = tempDir();
    const t = (n: number): number => T0 + n * 1000;
    const shape: JobShape = {
      topic: orders,
      valid: (id, n) => ({
        value: { order_id: id, order_date: iso(t(n)), created_at: iso(t(n)), customer_id: `c${n % 7}`, amount: 100 + n },
        companions: [{ topic: payments, key: `${id}-pay`, value: Buffer.from(JSON.stringify({ payment_id: `pay-${id}`, order_id: id, payment_date: iso(t(n) + 500), created_at: iso(t(n) + 500), amount: 100 + n })), expect: { kind: 'valid', id } }],
      }),
      defects: [
        (id, n) => ({ text: `{"order_id":"${id}","order_date":"${iso(t(n))}","created_at":"${iso(t(n))}","customer_id":"c","amount":1e400}`, reason: 'validation_failed' }),
        (id, n) => ({ text: `{"order_id":"${id}","order_date":"${iso(t(n))}","created_at":"${iso(t(n))}","customer_id":"c","amount":"NaN"}`, reason: 'validation_failed' }),
        (id, n) => ({ text: `{"order_id":"${id}","order_date":"${iso(t(n))}","created_at":"${iso(t(n))}","customer_id":"c","amount":1.5}`, reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ order_id: 42, order_date: iso(t(n)), created_at: iso(t(n)), customer_id: id, amount: 1 }), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ order_id: id, order_date: iso(t(n)), created_at: iso(t(n)), customer_id: null, amount: 1 }), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ order_id: id, order_date: iso(t(n)), customer_id: 'c', amount: 1 }), reason: 'validation_failed' }),
        ...['2024-02-30T00:00:00Z', '2024-01-01 00:00:00', '0', '2024-13-01T00:00:00Z', '01/02/2024', '2024-01-01T00:00:00'].map((d) => (id: string, n: number) => ({ text: JSON.stringify({ order_id: id, order_date: d, created_at: iso(t(n)), customer_id: 'c', amount: 1 }), reason: 'validation_failed' })),
        (id, n) => ({ text: JSON.stringify({ order_id: id, order_date: '9999-12-31T23:59:59Z', created_at: iso(t(n)), customer_id: 'c', amount: 1 }), reason: 'event_time_out_of_range', limit: 'maxEventTimeAheadMs' }),
      ],
    };
    const group = uniqueName('hostile-op');
    const { records, p, health } = await runJob(
      ['orders-payments', '--output-dir', out, '--set', `ordersTopic=${orders}`, '--set', `paymentsTopic=${payments}`, '--set', 'sink=file', '--set', `dlqTopic=${dlq}`],
      [orders, payments], group, shape, seed,
      // Event time past every order's timeout: nothing is left waiting.
      () => sendHeartbeats(kafkaBrokers(), [orders, payments], t(RUNS * 10 + 100) + 24 * 3_600_000).then(() => undefined),
    );
    await stop(p);
    const facts: Array<{ order_id: string; status: string }> = [];
    const dir = join(out, 'facts');
    if (existsSync(dir)) for (const part of readdirSync(dir)) for (const f of readdirSync(join(dir, part))) if (f.endsWith('.jsonl')) for (const line of readFileSync(join(dir, part, f), 'utf8').split('\n')) if (line) facts.push(JSON.parse(line) as { order_id: string; status: string });
    const output = new Map<string, number>();
    for (const f of facts) output.set(f.order_id, (output.get(f.order_id) ?? 0) + 1);
    expect(facts.filter((f) => f.status !== 'paid')).toEqual([]);
    verdict(records, await dlqLetters(dlq), output, health, seed);
  });

  it('wikipedia: every valid event is in the raw Parquet output once, every invalid record is one dead letter with its reason', { timeout: 1_200_000 }, async () => {
    const seed = Number(process.env.SLUICE_HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const topic = await createTopic('hostile-wikipedia', 1);
    const dlq = uniqueName('hostile-wiki-dlq');
    const raw = tempDir();
    const base = recordedEvents()[3] as unknown as Record<string, unknown> & { meta: Record<string, unknown> };
    const ev = (id: string, n: number): Record<string, unknown> => {
      const s = Math.floor(T0 / 1000) + n;
      return { ...base, meta: { ...base.meta, id, dt: iso(s * 1000), domain: 'en.wikipedia.org' }, timestamp: s };
    };
    const shape: JobShape = {
      topic,
      valid: (id, n) => ({ value: ev(id, n) }),
      defects: [
        (id, n) => ({ text: JSON.stringify(ev(id, n)).replace(/"timestamp":\d+/, '"timestamp":1e400'), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ ...ev(id, n), namespace: 'NaN' }), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ ...ev(id, n), bot: 'yes' }), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ ...ev(id, n), meta: { ...(ev(id, n).meta as object), dt: '2024-02-30T00:00:00Z' } }), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ ...ev(id, n), meta: { ...(ev(id, n).meta as object), dt: '2024-01-01 00:00:00' } }), reason: 'validation_failed' }),
        (id, n) => ({ text: JSON.stringify({ ...ev(id, n), timestamp: 253402300799 }), reason: 'event_time_out_of_range', limit: 'maxEventTimeAheadMs' }),
      ],
    };
    const group = uniqueName('hostile-wiki');
    const { records, p, health } = await runJob(
      ['wikipedia', '--output-dir', tempDir(), '--set', `topic=${topic}`, '--set', `schemaPath=${schemaPath()}`, '--set', 'aggregatesTo=discard', '--set', 'idleAdvance=off', '--set', `rawDir=${raw}`, '--set', `dlqTopic=${dlq}`, '--set', `lateTopic=${uniqueName('hostile-late')}`],
      [topic], group, shape, seed,
    );
    await stop(p);
    const duck = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = (await duck.runAndReadAll(`SELECT meta_id AS id, count(*)::INTEGER AS n FROM read_parquet('${raw}/*/*/*.parquet', hive_partitioning = true) GROUP BY meta_id`)).getRowObjectsJS() as Array<{ id: string; n: number }>;
    duck.closeSync();
    verdict(records, await dlqLetters(dlq), new Map(rows.map((r) => [r.id, Number(r.n)])), health, seed);
  });

  let postgres: PostgresServer | undefined;
  afterAll(async () => {
    await postgres?.stop();
  });

  it('users (users-raw-to-postgres): every valid user is one row, every invalid record is one dead letter with its reason', { timeout: 1_200_000 }, async () => {
    const seed = Number(process.env.SLUICE_HOSTILE_SEED ?? Math.floor(Math.random() * 2 ** 31));
    const pgUrl = process.env.SLUICE_PG_URL ?? (postgres = await startPostgres()).url;
    const topic = await createTopic('hostile-users', 1);
    const dlq = uniqueName('hostile-users-dlq');
    const table = `hostile_${Date.now().toString(36)}`;
    const base = recordedUsers()[0];
    let n0 = 0;
    // The id a valid record is known by in the output is its login.uuid.
    const idOf = new Map<string, string>();
    const user = (key: string): Record<string, unknown> => {
      const u = uuid(++n0);
      idOf.set(key, u);
      return { ...base, login: { ...base.login, uuid: u } };
    };
    const shape: JobShape = {
      topic,
      valid: (id) => ({ value: user(id) }),
      defects: [
        (id) => ({ text: JSON.stringify({ ...user(id), login: { uuid: 42 } }), reason: 'validation_failed' }),
        (id) => ({ text: JSON.stringify({ ...user(id), login: { uuid: 'not-a-uuid' } }), reason: 'validation_failed' }),
        (id) => ({ text: JSON.stringify({ ...user(id), login: null }), reason: 'validation_failed' }),
        (id) => ({ text: JSON.stringify({ ...user(id), login: [] }), reason: 'validation_failed' }),
      ],
    };
    const group = uniqueName('hostile-users');
    const { records, p, health } = await runJob(
      ['users-raw-to-postgres', '--output-dir', tempDir(), '--set', `topic=${topic}`, '--set', `postgres=${pgUrl}`, '--set', `table=${table}`, '--set', `dlqTopic=${dlq}`],
      [topic], group, shape, seed,
    );
    await stop(p);
    const pool = new pg.Pool({ connectionString: pgUrl, max: 1 });
    const rs = await pool.query<{ id: string }>(`SELECT id::text AS id FROM ${table}`);
    await pool.end();
    const rowIds = new Set(rs.rows.map((r) => r.id));
    // Valid records name their key as their id; the output holds userId(login.uuid).
    const output = new Map<string, number>();
    for (const r of records) if (r.expect.kind === 'valid' && rowIds.has(userId(idOf.get(r.key)!))) output.set(r.key, 1);
    expect(rowIds.size).toBe(records.filter((r) => r.expect.kind === 'valid').length);
    verdict(records, await dlqLetters(dlq), output, health, seed);
  });
});

/**
 * Issue 18, F1–F5: single poison records against the real orders-payments
 * job (the `sluice` CLI, 2 workers) over the real broker. Each failure the
 * issue found is one record here, mixed with valid orders and payments; the
 * job must keep running, join every valid pair, and dead-letter each poison
 * record once with its reason, locating it (topic, partition, offset, key).
 *
 *   F1 a 10,000-level nested field (valid order, and an invalid record)
 *   F2 600 KB of `"` (its letter would be ~1.2 MB of JSON: over the broker limit)
 *   F3 invalid UTF-8 inside a JSON string (two ids that U+FFFD would merge)
 *   F4 dates Date.parse accepts and ISO 8601 does not; a date in 9999
 *   F5 an order without created_at
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { sendHeartbeats } from '../../cli/produce.ts';
import { endOffsets, groupCaughtUp, readDeadLetters } from '../../bench/lib/orders-payments-check.ts';
import { kafkaSink } from '../../engine/sinks/kafka-sink.ts';
import type { KafkaOutputRecord, TwoPhaseSinkDriver } from '../../engine/contracts/sinks.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';

const DLQ = 'orders-payments.dlq';
const T0 = Date.UTC(2024, 0, 1);
const iso = (ms: number): string => new Date(ms).toISOString();

interface Letter {
  reason: string;
  code: string;
  topic: string | null;
  partition: number;
  offset: number | null;
  key: string | null;
  job: string;
  group: string;
  time: string;
  error?: { code: string; message: string };
  limit?: { name: string; max: number; actual: number };
  value?: unknown;
  raw?: { bytes: number; sha256: string; truncated: boolean; text?: string; base64?: string };
}

function nested(depth: number): string {
  return '['.repeat(depth) + ']'.repeat(depth);
}

function order(id: string, t: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { order_id: id, order_date: iso(t), created_at: iso(t), customer_id: `c-${id}`, amount: 100, ...extra };
}

function payment(id: string, t: number): Record<string, unknown> {
  return { payment_id: `pay-${id}`, order_id: id, payment_date: iso(t + 1000), created_at: iso(t + 1000), amount: 100 };
}

function readFacts(dir: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  if (!existsSync(dir)) return out;
  for (const part of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, part)).filter((x) => x.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(dir, part, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as Record<string, unknown>);
    }
  }
  return out;
}

const good = ['ok-1', 'ok-2', 'ok-3'];
const F3A = Buffer.concat([Buffer.from('{"order_id":"bad'), Buffer.from([0xff]), Buffer.from(`1","order_date":"${iso(T0)}","created_at":"${iso(T0)}","customer_id":"c","amount":1}`)]);
const F3B = Buffer.concat([Buffer.from('{"order_id":"bad'), Buffer.from([0xfe]), Buffer.from(`1","order_date":"${iso(T0)}","created_at":"${iso(T0)}","customer_id":"c","amount":1}`)]);
const F2 = Buffer.from('"'.repeat(600_000));
const F1_VALID = Buffer.from(JSON.stringify(order('deep-valid', T0 + 5000)).replace(/}$/, `,"order_deep":${nested(10_000)}}`));
const F1_INVALID = Buffer.from(`{"order_deep":${nested(10_000)}}`);
const F4_DATES = ['2024-01-01 00:05:01', '01/02/2024', '2024-02-30T00:00:00Z', '0', '9999-12-31T23:59:59Z'];

let facts: Array<Record<string, unknown>> = [];
let letters: Letter[] = [];
let copies = 0;
let exitCode: number | string = -1;
let stderr = '';
let ordersTopic = '';

beforeAll(async () => {
  ordersTopic = await createTopic('poison-orders', 2);
  const paymentsTopic = await createTopic('poison-payments', 2);
  const dlqFrom = await endOffsets(kafkaBrokers(), DLQ);
  const producer = kafkaClient().producer();
  await producer.connect();
  const o = (key: string, value: Buffer | string) => ({ key, value });
  await producer.send({
    topic: ordersTopic,
    messages: [
      ...good.map((id, i) => o(id, JSON.stringify(order(id, T0 + i * 1000)))),
      o('deep-valid', F1_VALID),
      o('deep-invalid', F1_INVALID),
      o('quotes', F2),
      o('utf8-a', F3A),
      o('utf8-b', F3B),
      ...F4_DATES.map((d, i) => o(`date-${i}`, JSON.stringify(order(`date-${i}`, T0, { order_date: d })))),
      o('no-created-at', JSON.stringify({ order_id: 'no-created-at', order_date: iso(T0), customer_id: 'c', amount: 5 })),
    ],
  });
  await producer.send({ topic: paymentsTopic, messages: good.map((id, i) => o(id, JSON.stringify(payment(id, T0 + i * 1000)))) });
  await producer.disconnect();
  await sendHeartbeats(kafkaBrokers(), [ordersTopic, paymentsTopic], T0 + 24 * 3_600_000);

  const out = tempDir();
  const group = uniqueName('poison-group');
  const p = startSluice([
    'run', 'orders-payments', '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', tempDir(), '--output-dir', out,
    '--group-id', group, '--checkpoint-interval', '300', '--no-progress',
    '--set', `ordersTopic=${ordersTopic}`, '--set', `paymentsTopic=${paymentsTopic}`, '--set', 'sink=file',
  ]);
  let exited = false;
  void p.exited.then(() => (exited = true));
  for (const t of [ordersTopic, paymentsTopic]) {
    await waitFor(`the job to consume ${t}`, async () => {
      if (exited) return true;
      return groupCaughtUp(kafkaBrokers(), group, t);
    }, 120_000, 300);
  }
  if (!exited) p.child.kill('SIGTERM');
  exitCode = await p.exited;
  stderr = p.stderr();
  facts = readFacts(join(out, 'facts'));
  ({ letters, copies } = (await readDeadLetters(kafkaBrokers(), DLQ, dlqFrom)) as unknown as { letters: Letter[]; copies: number });
}, 300_000);

const lettersFor = (key: string): Letter[] => letters.filter((l) => l.key === key);

describe('poison records against orders-payments over Kafka (issue 18)', () => {
  it('the valid orders join their payments, and the job ran until stopped', () => {
    expect(exitCode, stderr).toBe(0);
    const paid = facts.filter((f) => f.status === 'paid').map((f) => f.order_id).sort();
    expect(paid).toEqual(good);
    expect(copies).toBe(0);
  });

  it('F1: 10,000-level nesting is dead-lettered over maxDepth (valid or not), never reaches state', () => {
    expect(exitCode, stderr).toBe(0);
    for (const key of ['deep-valid', 'deep-invalid']) {
      const l = lettersFor(key);
      expect(l, key).toHaveLength(1);
      expect(l[0]).toMatchObject({ reason: 'limit_exceeded', code: 'SLUICE_DECODE', limit: { name: 'maxDepth', max: 64 }, topic: ordersTopic });
      expect(Number.isInteger(l[0].offset)).toBe(true);
    }
    expect(facts.some((f) => f.order_id === 'deep-valid')).toBe(false);
  });

  it('F2: a 600 KB value of quotes gets a letter that fits: prefix, length and SHA-256 of the original', () => {
    expect(exitCode, stderr).toBe(0);
    const l = lettersFor('quotes');
    expect(l).toHaveLength(1);
    expect(l[0].raw).toMatchObject({ bytes: 600_000, truncated: true, sha256: createHash('sha256').update(F2).digest('hex') });
    expect(l[0].raw!.text!.length).toBeGreaterThan(1000);
    expect('"'.repeat(l[0].raw!.text!.length)).toBe(l[0].raw!.text);
    expect(Buffer.byteLength(JSON.stringify(l[0]))).toBeLessThan(100_000);
  });

  it('F3: invalid UTF-8 inside a JSON string is a decode_error, its bytes kept as base64', () => {
    expect(exitCode, stderr).toBe(0);
    expect(facts.filter((f) => String(f.order_id).startsWith('bad'))).toEqual([]);
    for (const [key, bytes] of [['utf8-a', F3A], ['utf8-b', F3B]] as const) {
      const l = lettersFor(key);
      expect(l, key).toHaveLength(1);
      expect(l[0]).toMatchObject({ reason: 'decode_error', code: 'SLUICE_DECODE', error: { code: 'SLUICE_DECODE' } });
      expect(Buffer.from(l[0].raw!.base64!, 'base64').equals(bytes)).toBe(true);
    }
  });

  it('F4: only strict ISO 8601 instants are dates; one too far ahead of the watermark is dead-lettered, not held', () => {
    expect(exitCode, stderr).toBe(0);
    expect(facts.filter((f) => String(f.order_id).startsWith('date-'))).toEqual([]);
    F4_DATES.forEach((d, i) => {
      const l = lettersFor(`date-${i}`);
      expect(l, d).toHaveLength(1);
      if (d.startsWith('9999')) expect(l[0]).toMatchObject({ reason: 'event_time_out_of_range', limit: { name: 'maxEventTimeAheadMs' } });
      else expect(l[0]).toMatchObject({ reason: 'validation_failed', error: { message: '/order_date must match format "date-time"' } });
    });
  });

  it('F5: an order without created_at is invalid, never a row with created_at null', () => {
    expect(exitCode, stderr).toBe(0);
    expect(facts.filter((f) => f.created_at === null || f.created_at === undefined)).toEqual([]);
    const l = lettersFor('no-created-at');
    expect(l).toHaveLength(1);
    expect(l[0]).toMatchObject({ reason: 'validation_failed', error: { message: "/ must have required property 'created_at'" } });
  });

  it('every letter names job, group, topic, partition, offset, key, reason, code and time', () => {
    expect(letters.length).toBe(2 + 1 + 2 + F4_DATES.length + 1);
    for (const l of letters) {
      expect(l.job).toBe('orders-payments');
      expect(l.group).toMatch(/^poison-group-/);
      expect(l.topic).toBe(ordersTopic);
      expect([0, 1]).toContain(l.partition);
      expect(Number.isInteger(l.offset)).toBe(true);
      expect(typeof l.key).toBe('string');
      expect(l.code).toBe('SLUICE_DECODE');
      expect(Number.isFinite(Date.parse(l.time))).toBe(true);
    }
  });

  it('the sluice-id header names the application: two deployments of a job never share record ids', async () => {
    const topic = await createTopic('poison-ids', 1);
    const ids: string[] = [];
    for (const appId of ['deploy-a', 'deploy-b']) {
      const d = kafkaSink({ topic }).create() as TwoPhaseSinkDriver;
      await d.open({ job: 'j', sinkId: 'out', workerId: 0, runtime: { brokers: kafkaBrokers(), stateDir: '', outputDir: '', embedded: false, appId } });
      const staged: KafkaOutputRecord[] = [];
      await d.prepare({ sinkId: 'out', actorId: 'p0', partition: 0, epoch: 7, records: [{ id: '0-7-0', key: 'k', value: { a: 1 }, time: 0 }] }, { add: (rs) => void staged.push(...rs) });
      ids.push(String(staged[0].headers!['sluice-id']));
      await d.close();
    }
    expect(ids).toEqual(['deploy-a/0-7-0', 'deploy-b/0-7-0']);
  });
});

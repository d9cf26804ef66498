/**
 * The test broker works the way the engine relies on it: keyed messages keep
 * their per-key order through a partitioned topic and a consumer group, and
 * transactions commit and abort.
 */
import { describe, expect, it } from 'vitest';
import type { EachBatchPayload } from 'kafkajs';
import { createTopic, kafkaClient, uniqueName } from '../helpers/kafka.ts';

const MESSAGES = 10_000;
const KEYS = 50;
const PARTITIONS = 4;
const SEND_BATCH = 1_000;

interface Payload {
  key: string;
  seq: number;
}

/** Resolves when `done()` is true, checking after every batch; rejects after timeoutMs. */
function until(timeoutMs: number, what: () => string): { wait: Promise<void>; check(done: boolean): void } {
  let resolve!: () => void;
  let reject!: (error: Error) => void;
  const wait = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs}ms: ${what()}`)), timeoutMs);
  return {
    wait: wait.finally(() => clearTimeout(timer)),
    check(done) {
      if (done) resolve();
    },
  };
}

describe('kafka smoke', () => {
  it(`round-trips ${MESSAGES} keyed messages in per-key order through a consumer group`, async () => {
    const topic = await createTopic('smoke', PARTITIONS);
    const kafka = kafkaClient({ clientId: 'kafka-smoke' });

    // Produce: message i belongs to key i % KEYS and is that key's n-th message.
    const producer = kafka.producer();
    await producer.connect();
    const nextSeq = new Map<string, number>();
    const messages = Array.from({ length: MESSAGES }, (_, i) => {
      const key = `key-${i % KEYS}`;
      const seq = nextSeq.get(key) ?? 0;
      nextSeq.set(key, seq + 1);
      return { key, value: JSON.stringify({ key, seq } satisfies Payload) };
    });
    // One request in flight at a time, so the broker sees them in this order.
    for (let i = 0; i < messages.length; i += SEND_BATCH) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + SEND_BATCH) });
    }
    await producer.disconnect();

    const admin = kafka.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(topic);
    expect(offsets).toHaveLength(PARTITIONS);
    expect(offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(MESSAGES);
    await admin.disconnect();

    // Consume through a group, batch by batch.
    const consumer = kafka.consumer({ groupId: uniqueName('smoke-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });

    let count = 0;
    const lastSeq = new Map<string, number>();
    const partitionOfKey = new Map<string, number>();
    const violations: string[] = [];
    const done = until(60_000, () => `consumed ${count} of ${MESSAGES}`);

    await consumer.run({
      eachBatch: async ({ batch, resolveOffset, heartbeat }: EachBatchPayload) => {
        for (const message of batch.messages) {
          const payload = JSON.parse(message.value!.toString()) as Payload;
          const key = message.key!.toString();
          if (payload.key !== key) violations.push(`message key ${key} carries payload key ${payload.key}`);
          const expected = (lastSeq.get(key) ?? -1) + 1;
          if (payload.seq !== expected) violations.push(`${key}: got seq ${payload.seq}, expected ${expected}`);
          lastSeq.set(key, payload.seq);
          const partition = partitionOfKey.get(key) ?? batch.partition;
          if (partition !== batch.partition) violations.push(`${key} seen on partitions ${partition} and ${batch.partition}`);
          partitionOfKey.set(key, partition);
          count++;
          resolveOffset(message.offset);
        }
        await heartbeat();
        done.check(count >= MESSAGES);
      },
    });
    await done.wait;
    await consumer.disconnect();

    expect(violations.slice(0, 10)).toEqual([]);
    expect(count).toBe(MESSAGES);
    expect(lastSeq.size).toBe(KEYS);
    for (const [key, seq] of lastSeq) expect(seq, key).toBe(MESSAGES / KEYS - 1);
    // 50 keys over 4 partitions: the default partitioner spreads them.
    expect(new Set(partitionOfKey.values()).size).toBe(PARTITIONS);
  });

  it('commits and aborts transactions (read_committed sees only committed output)', async () => {
    const topic = await createTopic('smoke-tx', 1);
    const kafka = kafkaClient({ clientId: 'kafka-smoke-tx' });
    const producer = kafka.producer({
      transactionalId: uniqueName('smoke-tx'),
      idempotent: true,
      maxInFlightRequests: 1,
    });
    await producer.connect();

    const committed = await producer.transaction();
    await committed.send({ topic, messages: [{ key: 'k', value: 'committed-1' }, { key: 'k', value: 'committed-2' }] });
    await committed.commit();
    const aborted = await producer.transaction();
    await aborted.send({ topic, messages: [{ key: 'k', value: 'aborted' }] });
    await aborted.abort();
    const last = await producer.transaction();
    await last.send({ topic, messages: [{ key: 'k', value: 'committed-3' }] });
    await last.commit();
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('smoke-tx-group'), readUncommitted: false });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const values: string[] = [];
    const done = until(60_000, () => `got ${JSON.stringify(values)}`);
    await consumer.run({
      eachBatch: async ({ batch, resolveOffset }: EachBatchPayload) => {
        for (const message of batch.messages) {
          values.push(message.value!.toString());
          resolveOffset(message.offset);
        }
        done.check(values.includes('committed-3'));
      },
    });
    await done.wait;
    await consumer.disconnect();

    expect(values).toEqual(['committed-1', 'committed-2', 'committed-3']);
  });
});

/**
 * Checks of the orders-payments job's results, shared by its end-to-end test
 * (test/integration/orders-payments-e2e.test.ts) and bench/orders-payments.ts:
 * read the dead-letter topic back once per record, compare the MongoDB
 * collection with the expected output, follow a consumer group's progress.
 * No test framework here: the benchmark runs outside vitest.
 */
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';
import { createAdmin } from '../../engine/kafka/admin.ts';
import type { Expected } from '../../jobs/orders-payments/expected.ts';
import type { Fact } from '../../jobs/orders-payments/facts.ts';

export interface DeadLetter {
  reason: string;
  source?: string;
  error?: { message: string };
  value: unknown;
}

export async function endOffsets(brokers: string[], topic: string): Promise<Map<number, number>> {
  const admin = createAdmin({ brokers, clientId: 'orders-payments-check' });
  try {
    return (await admin.partitionCount(topic)) === undefined ? new Map() : await admin.topicEndOffsets(topic);
  } finally {
    await admin.close();
  }
}

/**
 * The dead letters written to `topic` after the offsets `from`. Dead letters
 * on Kafka are committed in the job's epoch transactions, so each should be
 * there once; `copies` counts records whose `sluice-id` header repeats (a
 * redelivered epoch), which would be a bug. Transactions end in commit
 * markers that no message carries, so the read's progress is tracked with
 * kafkajs' END_BATCH_PROCESS events (as engine/kafka/partition-reader.ts).
 */
export async function readDeadLetters(brokers: string[], topic: string, from: Map<number, number>, timeoutMs = 60_000): Promise<{ letters: DeadLetter[]; copies: number }> {
  const ends = await endOffsets(brokers, topic);
  const byId = new Map<string, DeadLetter>();
  let copies = 0;
  const pending = [...ends].filter(([p, end]) => end > (from.get(p) ?? 0));
  if (pending.length === 0) return { letters: [], copies };
  const kafka = new Kafka({ brokers, clientId: 'orders-payments-check', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `dlq-reader-${topic}-${Date.now()}-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen = new Map<number, number>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic}: timed out`)), timeoutMs);
    const check = (): void => {
      if (pending.every(([p, end]) => (seen.get(p) ?? 0) >= end)) {
        clearTimeout(timer);
        resolve();
      }
    };
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
      const next = Number(e.payload.lastOffset) + 1;
      if (next > (seen.get(e.payload.partition) ?? 0)) seen.set(e.payload.partition, next);
      check();
    });
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        if (offset >= (from.get(partition) ?? 0) && offset < (ends.get(partition) ?? 0)) {
          const id = message.headers?.['sluice-id']?.toString() ?? `${partition}:${offset}`;
          if (byId.has(id)) copies++;
          else byId.set(id, JSON.parse(message.value!.toString()) as DeadLetter);
        }
        check();
      },
    });
  });
  await consumer.disconnect();
  return { letters: [...byId.values()], copies };
}

export async function collectionCount(uri: string, db: string, collection: string): Promise<number> {
  const c = new MongoClient(uri);
  try {
    await c.connect();
    return await c.db(db).collection(collection).estimatedDocumentCount();
  } finally {
    await c.close();
  }
}

/** Differences between the collection and the expected facts: missing, unexpected and different documents (at most `max` each). */
export async function compareCollection(uri: string, db: string, collection: string, want: Expected, max = 5) {
  const c = new MongoClient(uri);
  try {
    await c.connect();
    const docs = await c.db(db).collection<Fact & { _id: string }>(collection).find().toArray();
    const got = new Map(docs.map((d) => [d._id, d]));
    const missing: string[] = [];
    const different: Array<{ _id: string; got: unknown; want: unknown }> = [];
    for (const [id, f] of want.facts) {
      const d = got.get(id);
      if (!d) {
        if (missing.length < max) missing.push(id);
        continue;
      }
      const { _id, ...rest } = d;
      if (JSON.stringify(sortKeys(rest)) !== JSON.stringify(sortKeys(f)) && different.length < max) different.push({ _id, got: rest, want: f });
    }
    const unexpected = [...got.keys()].filter((id) => !want.facts.has(id)).slice(0, max);
    return { count: docs.length, missing, unexpected, different };
  } finally {
    await c.close();
  }
}

function sortKeys(o: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Dead letters by reason (validation failures by their message), for comparison with the plan. */
export function summarizeDeadLetters(letters: DeadLetter[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of letters) {
    // Validation messages end in details (", got ..."): keep what is wrong, not the value.
    const k = l.reason === 'validation_failed' ? `validation_failed: ${(l.error?.message ?? '?').split(', got')[0]}` : l.reason;
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** What the plan's invalid records and unknown payments should produce, in summarizeDeadLetters' terms. */
export function expectedDeadLetters(want: Expected): Record<string, number> {
  const out: Record<string, number> = {};
  const add = (k: string): void => void (out[k] = (out[k] ?? 0) + 1);
  for (const b of want.badRecords) add(b.reason === 'decode_error' ? 'decode_error' : `validation_failed: ${b.reason}`);
  for (let i = 0; i < want.unknownPayments.length; i++) add('unknown_order');
  return out;
}

/** True when the group's committed offsets reached the end of every partition of `topic`. */
export async function groupCaughtUp(brokers: string[], groupId: string, topic: string): Promise<boolean> {
  const admin = createAdmin({ brokers, clientId: 'orders-payments-check' });
  try {
    const [ends, committed] = await Promise.all([admin.topicEndOffsets(topic), admin.fetchCommittedOffsets(groupId, topic)]);
    return [...ends].every(([p, end]) => (committed.get(p) ?? 0) >= end);
  } finally {
    await admin.close();
  }
}

/**
 * Pieces of the orders-payments end-to-end tests (and bench/orders-payments):
 * run the job as a real `sluice` process, read the dead-letter topic back
 * once per record, compare the MongoDB collection with the expected output.
 */
import { MongoClient } from 'mongodb';
import { createAdmin } from '../../engine/kafka/admin.ts';
import type { Expected } from '../../jobs/orders-payments/expected.ts';
import type { Fact } from '../../jobs/orders-payments/facts.ts';
import { kafkaBrokers, kafkaClient } from '../helpers/kafka.ts';

export interface DeadLetter {
  reason: string;
  source?: string;
  error?: { message: string };
  value: unknown;
}

export async function endOffsets(topic: string): Promise<Map<number, number>> {
  const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'test-admin' });
  try {
    return (await admin.partitionCount(topic)) === undefined ? new Map() : await admin.topicEndOffsets(topic);
  } finally {
    await admin.close();
  }
}

/**
 * The dead letters written to `topic` after the offsets `from`, each once:
 * the Kafka sink is at-least-once, and a redelivered epoch carries the same
 * `sluice-id` header, by which duplicates are dropped.
 */
export async function readDeadLetters(topic: string, from: Map<number, number>, timeoutMs = 60_000): Promise<{ letters: DeadLetter[]; copies: number }> {
  const ends = await endOffsets(topic);
  const byId = new Map<string, DeadLetter>();
  let copies = 0;
  const pending = [...ends].filter(([p, end]) => end > (from.get(p) ?? 0));
  if (pending.length === 0) return { letters: [], copies };
  const kafka = kafkaClient();
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
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const offset = Number(message.offset);
        seen.set(partition, offset + 1);
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

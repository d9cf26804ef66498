/** Shared pieces of the engine's Kafka integration tests: produce keyed counts, read an upsert topic back, wait for the group. */
import { createAdmin } from '../../engine/kafka/admin.ts';
import { produceKeyed as load } from '../../bench/lib/produce-keyed.ts';
import { kafkaBrokers, kafkaClient } from '../helpers/kafka.ts';

/** Produces `n` records {key, seq} with keys k0..k(keys-1), keyed by key; returns the count per key. */
export function produceKeyed(topic: string, n: number, keys: number, startSeq = 0, ratePerSec = Infinity): Promise<Map<string, number>> {
  return load(kafkaBrokers(), topic, n, keys, startSeq, ratePerSec);
}

/** Reads an upsert topic from the beginning: the last value of each key. */
export async function readLastValues(topic: string, expectAtLeastKeys: number, timeoutMs = 60_000): Promise<Map<string, { key: string; count: number }>> {
  const kafka = kafkaClient();
  const consumer = kafka.consumer({ groupId: `reader-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const last = new Map<string, { key: string; count: number }>();
  const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'test-admin' });
  const ends = await admin.topicEndOffsets(topic);
  await admin.close();
  const seen = new Map<number, number>();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic}: timed out with ${last.size} keys`)), timeoutMs);
    const check = (): void => {
      const done = [...ends].every(([p, end]) => end === 0 || (seen.get(p) ?? 0) >= end);
      if (done && last.size >= expectAtLeastKeys) {
        clearTimeout(timer);
        resolve();
      }
    };
    void consumer.run({
      eachMessage: async ({ partition, message }) => {
        const v = JSON.parse(message.value!.toString()) as { key: string; count: number };
        last.set(message.key!.toString(), v);
        seen.set(partition, Number(message.offset) + 1);
        check();
      },
    });
    check();
  });
  await consumer.disconnect();
  return last;
}

/** True when the group's committed offsets reached the end of every partition of `topic`. */
export async function groupCaughtUp(groupId: string, topic: string): Promise<boolean> {
  const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'test-admin' });
  try {
    const [ends, committed] = await Promise.all([admin.topicEndOffsets(topic), admin.fetchCommittedOffsets(groupId, topic)]);
    return [...ends].every(([p, end]) => (committed.get(p) ?? 0) >= end);
  } finally {
    await admin.close();
  }
}

/** Sum of the group's committed offsets over `topic`: how far the job has provably got. */
export async function committedTotal(groupId: string, topic: string): Promise<number> {
  const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'test-admin' });
  try {
    let sum = 0;
    for (const v of (await admin.fetchCommittedOffsets(groupId, topic)).values()) sum += v;
    return sum;
  } finally {
    await admin.close();
  }
}

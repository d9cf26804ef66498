/** Shared pieces of the engine's Kafka integration tests: produce keyed counts, read an upsert topic back, wait for the group. */
import { createAdmin } from '../../engine/kafka/admin.ts';
import { produceKeyed as load } from '../../bench/lib/produce-keyed.ts';
import { kafkaBrokers, readToEnd } from '../helpers/kafka.ts';

/** Produces `n` records {key, seq} with keys k0..k(keys-1), keyed by key; returns the count per key. */
export function produceKeyed(topic: string, n: number, keys: number, startSeq = 0, ratePerSec = Infinity): Promise<Map<string, number>> {
  return load(kafkaBrokers(), topic, n, keys, startSeq, ratePerSec);
}

/** Reads an upsert topic from the beginning: the last value of each key (waits for at least `expectAtLeastKeys`). */
export async function readLastValues(topic: string, expectAtLeastKeys: number, timeoutMs = 60_000): Promise<Map<string, { key: string; count: number }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = new Map<string, { key: string; count: number }>();
    for (const r of await readToEnd(topic, new Map(), timeoutMs)) last.set(r.key!, JSON.parse(r.value!.toString()) as { key: string; count: number });
    if (last.size >= expectAtLeastKeys) return last;
    if (Date.now() > deadline) throw new Error(`reading ${topic}: timed out with ${last.size} keys`);
    await new Promise((r) => setTimeout(r, 500));
  }
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

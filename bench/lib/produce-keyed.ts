/** Loads a topic with keyed JSON records {key, seq} for tests and benchmarks; returns the count per key. */
import { createProducer } from '../../engine/kafka/producer.ts';
import type { ProducerRecord } from '../../engine/kafka/types.ts';

export async function produceKeyed(brokers: string[], topic: string, n: number, keys: number, startSeq = 0, ratePerSec = Infinity): Promise<Map<string, number>> {
  const started = Date.now();
  const producer = createProducer({ brokers, clientId: 'sluice-load' }, { idempotent: true });
  await producer.connect();
  const counts = new Map<string, number>();
  let batch: ProducerRecord[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < n; i++) {
    const seq = startSeq + i;
    const key = `k${(seq * 7919) % keys}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    batch.push({ topic, key, value: JSON.stringify({ key, seq }) });
    if (batch.length === 5_000) {
      pending.push(producer.send(batch));
      batch = [];
      if (pending.length >= 4) await pending.shift();
      // Throttle: stay behind `ratePerSec` so a test's consumer always has fresh input.
      const ahead = ((i + 1) / ratePerSec) * 1000 - (Date.now() - started);
      if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
    }
  }
  if (batch.length) pending.push(producer.send(batch));
  await Promise.all(pending);
  await producer.disconnect();
  return counts;
}

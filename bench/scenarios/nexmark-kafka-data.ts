/**
 * The data of the nexmark-kafka scenario: the Nexmark events (the reference's
 * split layout and strings, jobs/nexmark/generator.ts) as JSON bytes with the
 * reference's field names (jobs/nexmark-kafka/events.ts) in one topic,
 * `sluice-nexmark-<N>-p<P>`: partition p holds split p, in event order,
 * record timestamp = event time, retention.ms=-1 (2024 event times). A topic
 * that already holds exactly N records is reused.
 */
import { createAdmin } from '../../engine/kafka/admin.ts';
import { createProducer } from '../../engine/kafka/producer.ts';
import type { ProducerRecord } from '../../engine/kafka/types.ts';
import { eventsPerPartition, nexmarkDefaults, nexmarkGenerator, type NexmarkSettings } from '../../jobs/nexmark/common.ts';
import { toKafkaJson } from '../../jobs/nexmark-kafka/events.ts';
import { log } from '../bench-harness.ts';
import { deleteTopics } from './kafka-data.ts';

export interface NexmarkDataset {
  topic: string;
  partitions: number;
  events: number;
  eventsPerSecond: number;
  preloadS: number | undefined;
}

export function nexmarkDataset(events: number, partitions: number, eventsPerSecond: number): NexmarkDataset {
  // Every split the same length, as eventsPerPartition() makes them.
  const total = Math.floor(events / partitions) * partitions;
  return { topic: `sluice-nexmark-${total}-p${partitions}-r${eventsPerSecond}`, partitions, events: total, eventsPerSecond, preloadS: undefined };
}

/** The generator settings the topic was made with, for the jobs and the reference. */
export function nexmarkDataSettings(d: NexmarkDataset): NexmarkSettings {
  return { ...nexmarkDefaults, partitions: d.partitions, events: d.events, eventsPerSecond: d.eventsPerSecond, layout: 'split', strings: 'reference' };
}

async function endOffsetSum(brokers: string[], topic: string): Promise<number | undefined> {
  const admin = createAdmin({ brokers, clientId: 'sluice-bench' });
  try {
    if ((await admin.partitionCount(topic)) === undefined) return undefined;
    let sum = 0;
    for (const v of (await admin.topicEndOffsets(topic)).values()) sum += v;
    return sum;
  } finally {
    await admin.close();
  }
}

/** Creates and fills the topic unless it already holds this dataset. */
export async function preloadNexmark(brokers: string[], d: NexmarkDataset): Promise<NexmarkDataset> {
  const have = await endOffsetSum(brokers, d.topic);
  if (have === d.events) {
    log(`nexmark-kafka: reusing ${d.topic} (${have} events)`);
    return d;
  }
  if (have !== undefined) await deleteTopics(brokers, [d.topic]);
  const admin = createAdmin({ brokers, clientId: 'sluice-bench' });
  try {
    await admin.ensureTopic(d.topic, d.partitions, { 'retention.ms': '-1' });
  } finally {
    await admin.close();
  }
  log(`nexmark-kafka: preloading ${d.events} events into ${d.topic}`);
  const t0 = performance.now();
  const s = nexmarkDataSettings(d);
  const gen = nexmarkGenerator(s);
  const per = eventsPerPartition(s);
  const producer = createProducer({ brokers, clientId: 'sluice-bench-preload' });
  await producer.connect();
  try {
    const inflight: Promise<void>[] = [];
    // Splits side by side, a slice of each at a time, so no partition runs far ahead of the others.
    for (let k0 = 0; k0 < per; k0 += 5_000) {
      const batch: ProducerRecord[] = [];
      for (let p = 0; p < d.partitions; p++) {
        for (let k = k0; k < Math.min(per, k0 + 5_000); k++) {
          const e = gen.generate(p, k);
          batch.push({ topic: d.topic, partition: p, key: null, value: toKafkaJson(e), timestamp: e.time });
        }
      }
      inflight.push(producer.send(batch));
      if (inflight.length >= 3) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await producer.disconnect();
  }
  const preloadS = (performance.now() - t0) / 1000;
  const got = await endOffsetSum(brokers, d.topic);
  if (got !== d.events) throw new Error(`nexmark-kafka: preload wrote ${got} events, expected ${d.events}`);
  log(`nexmark-kafka: preloaded ${d.events} events in ${preloadS.toFixed(1)} s (${Math.round(d.events / preloadS)} events/s)`);
  return { ...d, preloadS };
}

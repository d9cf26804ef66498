/**
 * Partition identity helpers. The engine keys per-partition maps by
 * `${topic}:${partition}`; Kafka topic names are limited to [a-zA-Z0-9._-], so
 * the last ':' always separates the two.
 */
import type { PartitionKey, TopicPartition } from './types.ts';

export function tpKey(topic: string, partition: number): PartitionKey {
  return `${topic}:${partition}`;
}

export function keyOf(tp: TopicPartition): PartitionKey {
  return tpKey(tp.topic, tp.partition);
}

export function parseTpKey(key: PartitionKey): TopicPartition {
  const i = key.lastIndexOf(':');
  const digits = key.slice(i + 1);
  const partition = Number(digits);
  if (i <= 0 || !/^\d+$/.test(digits) || !Number.isSafeInteger(partition)) {
    throw new TypeError(`not a topic:partition key: ${key}`);
  }
  return { topic: key.slice(0, i), partition };
}

/** kafkajs' pause/resume shape: one entry per topic. */
export function groupByTopic(tps: Iterable<TopicPartition>): Array<{ topic: string; partitions: number[] }> {
  const byTopic = new Map<string, number[]>();
  for (const { topic, partition } of tps) {
    let list = byTopic.get(topic);
    if (!list) byTopic.set(topic, (list = []));
    if (!list.includes(partition)) list.push(partition);
  }
  return [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}

/** Flattens a `{ topic: [partitions] }` assignment into a sorted list. */
export function fromAssignment(assignment: Record<string, number[]>): TopicPartition[] {
  const out: TopicPartition[] = [];
  for (const topic of Object.keys(assignment).sort()) {
    for (const partition of [...assignment[topic]].sort((a, b) => a - b)) out.push({ topic, partition });
  }
  return out;
}

export function sortTps(tps: TopicPartition[]): TopicPartition[] {
  return [...tps].sort((a, b) => (a.topic === b.topic ? a.partition - b.partition : a.topic < b.topic ? -1 : 1));
}

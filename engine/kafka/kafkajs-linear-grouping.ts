/**
 * A linear replacement for kafkajs 2.2.4's `groupMessagesPerPartition`.
 *
 * kafkajs groups each produce request's records by partition with
 * `Object.assign(result, { [partition]: [...current, message] })` per record
 * (src/producer/groupMessagesPerPartition.js): the partition's array is copied
 * for every record, so the cost is quadratic in the records per partition.
 * Changelog transactions send thousands of small records to one partition,
 * and the copying was 6-7 % of a worker's CPU even with requests capped at
 * 1,000 records. The upstream fix (tulios/kafkajs#1576) was never merged,
 * and kafkajs has had no release since 2.2.4. The engine's own producer is on
 * @platformatic/kafka now (producer.ts); this stays for the kafkajs producers
 * that share a thread with the engine (test helpers, bench tools).
 *
 * kafkajs's sendMessages.js takes the function with `require()` when it
 * loads, so this module puts the linear version, same contract and same
 * output, into Node's CommonJS module cache under the original's path
 * before kafkajs loads. Every engine/kafka module that loads kafkajs imports
 * this module first; `kafkajsGroupingPatched` says whether it was in time (it
 * is not when something loaded kafkajs earlier in the same thread: the
 * original then stays, which is slower but correct).
 */
import Module, { createRequire } from 'node:module';

interface GroupArgs {
  topic: string;
  partitionMetadata: unknown[];
  messages: unknown[];
  partitioner: (a: { topic: string; partitionMetadata: unknown[]; message: unknown }) => number;
}

/** Records by partition, each partition's in their original order (kafkajs's contract). */
export function groupMessagesPerPartition({ topic, partitionMetadata, messages, partitioner }: GroupArgs): Record<number, unknown[]> {
  if (partitionMetadata.length === 0) return {};
  const result: Record<number, unknown[]> = {};
  for (const message of messages) {
    const partition = partitioner({ topic, partitionMetadata, message });
    const list = result[partition];
    if (list === undefined) result[partition] = [message];
    else list.push(message);
  }
  return result;
}

const require = createRequire(import.meta.url);
const groupPath = require.resolve('kafkajs/src/producer/groupMessagesPerPartition.js');

function install(): boolean {
  const cached = require.cache[groupPath];
  if (cached) return cached.exports === groupMessagesPerPartition;
  const m = new Module(groupPath);
  m.filename = groupPath;
  m.loaded = true;
  m.exports = groupMessagesPerPartition;
  require.cache[groupPath] = m;
  return true;
}

export const kafkajsGroupingPatched: boolean = install();

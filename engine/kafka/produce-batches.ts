/**
 * Pure helpers for the producer: size estimates, chunking, and the kafkajs
 * `topicMessages` shape.
 *
 * kafkajs writes all records of one partition in a request as one record
 * batch and never splits it, and the broker rejects a batch above
 * message.max.bytes (1 MiB by default) with MESSAGE_TOO_LARGE. Coalescing
 * sends could build such a batch, so requests are cut at an estimated size
 * below that limit. Since the partitioner runs inside kafkajs, the bound is on
 * the whole request: no partition's share can exceed it.
 */
import type { Message, TopicMessages } from 'kafkajs';
import { kafkajsGroupingPatched } from './kafkajs-linear-grouping.ts';
import type { ProducerRecord } from './types.ts';

/** Per-record overhead in the v2 record format (varints, attributes, deltas), rounded up. */
const RECORD_OVERHEAD = 24;
/** Stays under the 1 MiB default message.max.bytes with room for the batch header. */
export const DEFAULT_MAX_REQUEST_BYTES = 900 * 1024;
/**
 * Records per request. kafkajs's own grouping of a request's records by
 * partition copies the partition's array for every record
 * (groupMessagesPerPartition: `[...current, message]`), which is quadratic:
 * 10,000 small records to one partition cost 100 ms of CPU, 20,000 cost
 * 1.3 s. The engine replaces it with a linear one (kafkajs-linear-grouping.ts);
 * should that not take (kafkajs loaded before it), requests stay at 1,000
 * records, where the copying costs ~3 ms. Changelog records are ~60 bytes,
 * so otherwise the byte bound (~15,000 of them) is the one that cuts.
 */
export const DEFAULT_MAX_REQUEST_RECORDS = kafkajsGroupingPatched ? 50_000 : 1000;

function byteLength(v: Buffer | string | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'string' ? Buffer.byteLength(v) : v.length;
}

export function estimateRecordBytes(r: ProducerRecord): number {
  let n = RECORD_OVERHEAD + byteLength(r.key) + byteLength(r.value);
  if (r.headers) {
    for (const name of Object.keys(r.headers)) n += 8 + Buffer.byteLength(name) + byteLength(r.headers[name]);
  }
  return n;
}

/** Splits records, in order, into runs of at most `maxBytes` and `maxRecords` (a single larger record gets a run of its own). */
export function chunkRecords(records: ProducerRecord[], maxBytes = DEFAULT_MAX_REQUEST_BYTES, maxRecords = DEFAULT_MAX_REQUEST_RECORDS): ProducerRecord[][] {
  const chunks: ProducerRecord[][] = [];
  let current: ProducerRecord[] = [];
  let size = 0;
  for (const r of records) {
    const n = estimateRecordBytes(r);
    if (current.length > 0 && (size + n > maxBytes || current.length >= maxRecords)) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(r);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/** Groups by topic, keeping each topic's records in submission order (so per-partition order holds). */
export function toTopicMessages(records: ProducerRecord[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const r of records) {
    if (!r.topic) throw new TypeError('producer record without a topic');
    let list = byTopic.get(r.topic);
    if (!list) byTopic.set(r.topic, (list = []));
    const m: Message = { key: r.key, value: r.value };
    if (r.partition !== undefined) m.partition = r.partition;
    if (r.headers) m.headers = r.headers;
    if (r.timestamp !== undefined) m.timestamp = String(r.timestamp);
    list.push(m);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

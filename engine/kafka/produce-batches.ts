/**
 * Pure helpers for the producer: size estimates, chunking, and the
 * @platformatic/kafka message shape.
 *
 * The client writes all records of one partition in a request as one record
 * batch, and the broker rejects a batch above message.max.bytes (1 MiB by
 * default) with MESSAGE_TOO_LARGE. Coalescing sends could build such a
 * batch, so requests are cut at an estimated size below that limit. Since
 * the partitioner runs inside the client, the bound is on the whole request:
 * no partition's share can exceed it.
 */
import type { MessageToProduce } from '@platformatic/kafka';
import type { LazyRecords, ProducerRecord } from './types.ts';

/** Per-record overhead in the v2 record format (varints, attributes, deltas), rounded up. */
const RECORD_OVERHEAD = 24;
/** Stays under the 1 MiB default message.max.bytes with room for the batch header. */
export const DEFAULT_MAX_REQUEST_BYTES = 900 * 1024;
/**
 * Records per request. Changelog records are ~60 bytes, so the byte bound
 * (~15,000 of them) is normally the one that cuts; this one keeps a run of
 * empty records (tombstones with short keys) from building one huge request.
 */
export const DEFAULT_MAX_REQUEST_RECORDS = 50_000;

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
export function chunkRecords(records: Iterable<ProducerRecord>, maxBytes = DEFAULT_MAX_REQUEST_BYTES, maxRecords = DEFAULT_MAX_REQUEST_RECORDS): ProducerRecord[][] {
  return [...eachChunk(records, maxBytes, maxRecords)];
}

/** chunkRecords, one run at a time: records that are made as they are iterated (LazyRecords) are alive a run at a time. */
export function* eachChunk(records: Iterable<ProducerRecord>, maxBytes = DEFAULT_MAX_REQUEST_BYTES, maxRecords = DEFAULT_MAX_REQUEST_RECORDS): Generator<ProducerRecord[]> {
  let current: ProducerRecord[] = [];
  let size = 0;
  for (const r of records) {
    const n = estimateRecordBytes(r);
    if (current.length > 0 && (size + n > maxBytes || current.length >= maxRecords)) {
      yield current;
      current = [];
      size = 0;
    }
    current.push(r);
    size += n;
  }
  if (current.length > 0) yield current;
}

/** What a send holds: its records, or how to make them. */
export type SendRecords = ProducerRecord[] | LazyRecords;

export function sendBytes(s: SendRecords): number {
  if (!Array.isArray(s)) return s.bytes;
  let n = 0;
  for (let i = 0; i < s.length; i++) n += estimateRecordBytes(s[i]);
  return n;
}

/** The records of several sends, in order. */
export function* sendRecords(sends: readonly SendRecords[]): Generator<ProducerRecord> {
  for (const s of sends) yield* Array.isArray(s) ? s : s.records();
}

const toBuffer = (v: Buffer | string): Buffer => (typeof v === 'string' ? Buffer.from(v) : v);

/**
 * The client's message shape, in submission order (so per-partition order
 * holds): keys, values and headers as Buffers (the producer runs without
 * serializers), a null value kept as null (a tombstone), the timestamp as a
 * bigint, the partition only when the record names one (else the producer's
 * Java-compatible murmur2 partitioner picks it from the key).
 */
export function toMessages(records: readonly ProducerRecord[]): MessageToProduce[] {
  const out: MessageToProduce[] = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    if (!r.topic) throw new TypeError('producer record without a topic');
    const m: MessageToProduce = {
      topic: r.topic,
      key: r.key === null || r.key === undefined ? undefined : toBuffer(r.key),
      value: (r.value === null || r.value === undefined ? null : toBuffer(r.value)) as Buffer,
    };
    if (r.partition !== undefined) m.partition = r.partition;
    if (r.timestamp !== undefined) m.timestamp = BigInt(r.timestamp);
    if (r.headers) {
      const headers = new Map<Buffer, Buffer>();
      for (const name of Object.keys(r.headers)) headers.set(Buffer.from(name), toBuffer(r.headers[name]));
      m.headers = headers;
    }
    out[i] = m;
  }
  return out;
}

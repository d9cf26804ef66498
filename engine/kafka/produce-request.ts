/**
 * The Produce request, encoded in one pass per partition.
 *
 * @platformatic/kafka builds a record as a list of small Buffers (one per
 * field, one per varint), chains the lists of a batch into one list, and
 * concatenates it twice (for the CRC, then for the socket). On a changelog
 * of tens of thousands of ~60-byte records a second that was about 16 % of a
 * worker's CPU and a third of its allocated bytes (bench/notes/30-kafka.md,
 * session 11). Here each partition's record batch is sized first, then
 * written into one Buffer: no object per record, one CRC over it.
 *
 * The bytes are the client's own, field for field (the unit test encodes the
 * same messages both ways and compares them), with one exception: a record
 * whose timestamp is more than 2^31 ms (24.8 days) from its batch's first
 * one. The client zigzags that delta with a 32-bit shift (`value >> 31n` in
 * @platformatic/dynamic-buffer's int64ZigZagEncode), so Kafka reads another
 * timestamp; here it is the Kafka spec's 64-bit zigzag. Everything around the request
 * (sequences, transactions, metadata, retries, the response) stays the
 * client's. Versions 9-11 of the request (flexible, compact fields) are
 * encoded here; a compressed batch or another version goes the client's way.
 *
 * RecordBatch v2 (https://kafka.apache.org/documentation/#recordbatch):
 *
 *   baseOffset i64 | batchLength i32 | partitionLeaderEpoch i32 | magic i8 = 2
 *   | crc u32 (CRC-32C of what follows) | attributes i16 | lastOffsetDelta i32
 *   | baseTimestamp i64 | maxTimestamp i64 | producerId i64 | producerEpoch i16
 *   | baseSequence i32 | recordCount i32 | records
 *
 *   record: length varint | attributes i8 | timestampDelta varlong
 *           | offsetDelta varint | key varbytes | value varbytes
 *           | headerCount varint | (key varbytes, value varbytes)*
 *
 * (varints are zigzag; a null key or value has length -1.)
 */
import { createAPI, crc32c, groupByProperty, produceV10, produceV11, produceV9, ProduceAcks, Writer } from '@platformatic/kafka';

/** A message as the client hands it to the Produce request (after its serializers and partitioner). */
export interface RequestMessage {
  topic: string;
  partition?: number;
  key?: Uint8Array | string | null;
  value?: Uint8Array | string | null;
  headers?: Map<Uint8Array | string, Uint8Array | string | null> | null;
  timestamp?: bigint | number | null;
}

/** What the client passes with the messages (ProduceOptions inside the client). */
export interface RequestOptions {
  compression?: string;
  producerId?: bigint;
  producerEpoch?: number;
  sequences?: { getWithDefault(key: string, fallback: number): number };
  transactionalId?: string;
  partitionLeaderEpoch?: number;
}

const IS_TRANSACTIONAL = 1 << 4;
/** baseOffset, batchLength, partitionLeaderEpoch, magic, crc: the bytes before what the CRC covers. */
const CRC_FROM = 8 + 4 + 4 + 1 + 4;
/** attributes .. recordCount. */
const HEADER_REST = 2 + 4 + 8 + 8 + 8 + 2 + 4 + 4;

const zigzag = (n: number): number => (n >= 0 ? n * 2 : -n * 2 - 1);

function varSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVar(buf: Buffer, p: number, v: number): number {
  // Timestamp deltas can exceed 2^31: division, not shifts, above that.
  while (v >= 0x80000000) {
    buf[p++] = (v % 128) | 128;
    v = Math.floor(v / 128);
  }
  while (v >= 128) {
    buf[p++] = (v & 127) | 128;
    v >>>= 7;
  }
  buf[p++] = v;
  return p;
}

const bytesOf = (v: Uint8Array | string): Uint8Array => (typeof v === 'string' ? Buffer.from(v) : v);

function fieldSize(v: Uint8Array | string | null | undefined): number {
  if (v === null || v === undefined) return 1;
  const n = typeof v === 'string' ? Buffer.byteLength(v) : v.length;
  return varSize(n * 2) + n;
}

function writeField(buf: Buffer, p: number, v: Uint8Array | string | null | undefined): number {
  if (v === null || v === undefined) {
    buf[p] = 1; // zigzag(-1)
    return p + 1;
  }
  const b = bytesOf(v);
  p = writeVar(buf, p, b.length * 2);
  buf.set(b, p);
  return p + b.length;
}

// createProduceRequest has given every message a timestamp; `now` stands in for a direct caller of encodeRecordBatch.
const timeOf = (m: RequestMessage, now: number): number => (m.timestamp == null ? now : Number(m.timestamp));

/** The record's bytes after its length field. */
function bodySize(m: RequestMessage, i: number, delta: number): number {
  let n = 1 + varSize(zigzag(delta)) + varSize(i * 2) + fieldSize(m.key) + fieldSize(m.value);
  const h = m.headers;
  n += varSize((h?.size ?? 0) * 2);
  if (h) for (const [k, v] of h) n += fieldSize(k) + fieldSize(v);
  return n;
}

/** Each record's body size from the sizing pass, for the writing pass; grown as needed, never shrunk. */
let bodySizes = new Int32Array(1024);

/** One partition's records as a RecordBatch v2, uncompressed. `now` stands for a missing timestamp. */
export function encodeRecordBatch(messages: readonly RequestMessage[], options: RequestOptions, now: number): Buffer {
  const count = messages.length;
  if (bodySizes.length < count) bodySizes = new Int32Array(Math.max(count, bodySizes.length * 2));
  const sizes = bodySizes;
  const first = timeOf(messages[0], now);
  let max = first;
  let size = CRC_FROM + HEADER_REST;
  for (let i = 0; i < count; i++) {
    const t = timeOf(messages[i], now);
    if (t > max) max = t;
    const b = bodySize(messages[i], i, t - first);
    sizes[i] = b;
    size += varSize(b * 2) + b;
  }
  const buf = Buffer.allocUnsafe(size);
  buf.writeBigInt64BE(0n, 0);
  buf.writeInt32BE(size - 12, 8);
  buf.writeInt32BE(options.partitionLeaderEpoch ?? 0, 12);
  buf[16] = 2;
  let p = CRC_FROM;
  p = buf.writeInt16BE(options.transactionalId ? IS_TRANSACTIONAL : 0, p);
  p = buf.writeInt32BE(count - 1, p);
  p = buf.writeBigInt64BE(BigInt(first), p);
  p = buf.writeBigInt64BE(BigInt(max), p);
  p = buf.writeBigInt64BE(options.producerId ?? -1n, p);
  p = buf.writeInt16BE(options.producerEpoch ?? 0, p);
  const m0 = messages[0];
  p = buf.writeInt32BE(options.sequences ? options.sequences.getWithDefault(`${m0.topic}:${m0.partition}`, 0) : 0, p);
  p = buf.writeInt32BE(count, p);
  for (let i = 0; i < count; i++) {
    const m = messages[i];
    const delta = timeOf(m, now) - first;
    p = writeVar(buf, p, sizes[i] * 2);
    buf[p++] = 0;
    p = writeVar(buf, p, zigzag(delta));
    p = writeVar(buf, p, i * 2);
    p = writeField(buf, p, m.key);
    p = writeField(buf, p, m.value);
    const h = m.headers;
    p = writeVar(buf, p, (h?.size ?? 0) * 2);
    if (h) {
      for (const [k, v] of h) {
        p = writeField(buf, p, k);
        p = writeField(buf, p, v);
      }
    }
  }
  if (p !== size) throw new Error(`record batch: wrote ${p} bytes of ${size}`);
  buf.writeUInt32BE(crc32c(buf.subarray(CRC_FROM)), 17);
  return buf;
}

/** The Produce request of versions 9-11 (all three encode it alike), as the client's createRequest does. */
export function createProduceRequest(acks = 1, timeout = 0, topicData: RequestMessage[], options: RequestOptions = {}): Writer {
  const now = Date.now();
  // As the client does: a message without a partition goes to 0, one without a timestamp gets this
  // request's time, written into the message, so that a re-send (idempotent recovery, a retried
  // producer) carries the same timestamps.
  let stamp: bigint | undefined;
  for (let i = 0; i < topicData.length; i++) {
    const m = topicData[i];
    if (m.partition === undefined) m.partition = 0;
    if (m.timestamp == null) m.timestamp = stamp ??= BigInt(now);
    else if (typeof m.timestamp === 'number' && !Number.isSafeInteger(m.timestamp)) throw new RangeError(`record timestamp ${m.timestamp} is not an integer number of milliseconds`);
  }
  const writer = Writer.create()
    .appendString(options.transactionalId)
    .appendInt16(acks)
    .appendInt32(timeout)
    .appendArray(groupByProperty(topicData, 'topic'), (w, [topic, byTopic]) => {
      w.appendString(topic as string).appendArray(groupByProperty(byTopic as RequestMessage[], 'partition'), (w, [partition, records]) => {
        const batch = encodeRecordBatch(records as RequestMessage[], options, now);
        w.appendInt32(Number(partition) || 0)
          .appendUnsignedVarInt(batch.length + 1)
          .append(batch);
      });
    })
    .appendTaggedFields();
  if (acks === ProduceAcks.NO_RESPONSE) writer.context.noResponse = true;
  return writer;
}

type ProduceModule = typeof produceV11;
const MODULES: Record<number, ProduceModule> = { 9: produceV9, 10: produceV10, 11: produceV11 };
const fastApis = new Map<number, unknown>();

/**
 * The Produce API of `version` with this encoder, or undefined for a version
 * it does not encode. A compressed request goes the client's way.
 */
export function fastProduceApi(version: number): unknown {
  const mod = MODULES[version];
  if (mod === undefined) return undefined;
  let api = fastApis.get(version);
  if (api === undefined) {
    const create = (acks: number, timeout: number, topicData: RequestMessage[], options: RequestOptions = {}): Writer | Promise<Writer> => {
      const c = options.compression;
      if (c === 'gzip') return mod.createRequestAsync(acks, timeout, topicData as never, options as never);
      if (c !== undefined && c !== 'none') return mod.createRequest(acks, timeout, topicData as never, options as never);
      return createProduceRequest(acks, timeout, topicData, options);
    };
    api = createAPI(0, version, create as never, mod.parseResponse);
    fastApis.set(version, api);
  }
  return api;
}

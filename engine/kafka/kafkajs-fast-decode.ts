/**
 * Replacements for three per-record steps of kafkajs 2.2.4's fetch path, on
 * numbers rather than its int64 `Long` class, with fewer objects, and a
 * correct read_committed filter:
 *
 *   - the record batch decoder (src/protocol/recordBatch/v0/decoder.js)
 *     cuts every record out of the batch (a Buffer) and wraps it in a
 *     Decoder of its own; decodeRecordBatch decodes each record in place,
 *     from the batch's decoder, and moves past it by its length;
 *   - the record decoder (src/protocol/recordBatch/record/v0/decoder.js)
 *     reads each record's timestamp delta with `readVarLong` (a `Long`
 *     built, shifted and added per byte) and makes its offset and timestamp
 *     strings with `Long.fromValue(first).add(delta).toString()`;
 *   - `Batch` (src/consumer/batch.js) keeps the messages at or above the
 *     fetched offset with `Long.fromValue(message.offset).gte(...)`, a
 *     decimal string parsed into a `Long` per record; and it drops aborted
 *     transactions' records with kafkajs's filterAbortedMessages, which is
 *     wrong when two producers' aborted transactions overlap in a partition
 *     (filterAborted, aborted-transactions.ts): aborted records reached
 *     read_committed readers.
 *
 * In a catch-up of the orders-payments job these were 15-20 % of the main
 * thread's CPU (fromString, toString, readVarLong, add, shifts) and much of
 * its garbage. The replacements give the same values (offsets and
 * timestamps are still decimal strings, as kafkajs's API has them), computed
 * with plain numbers while every quantity is below 2^53, which Kafka offsets
 * and millisecond timestamps are in practice (types.ts); outside that range
 * they fall back to the original `Long` code, so nothing changes there.
 *
 * Installed as kafkajs-linear-grouping.ts is: the modules go into Node's
 * CommonJS cache under the originals' paths before kafkajs loads (every
 * engine module that loads kafkajs imports this one first).
 * `kafkajsDecodePatched` says whether it was in time; when kafkajs was
 * loaded earlier in the thread, neither is replaced (slower, same values).
 * In a process that also runs kafkajs for itself (the benchmarks' raw
 * consumer), that kafkajs gets them too.
 */
import Module, { createRequire } from 'node:module';
import { filterAborted, type AbortedTransaction, type FetchedMessage } from './aborted-transactions.ts';

const require = createRequire(import.meta.url);
const root = require.resolve('kafkajs/src/protocol/recordBatch/record/v0/decoder.js').replace(/protocol\/recordBatch\/record\/v0\/decoder\.js$/, '');
const Long = require(`${root}utils/long.js`) as LongStatic;
const HeaderDecoder = require(`${root}protocol/recordBatch/header/v0/decoder.js`) as (d: Decoder) => { key: string; value: unknown };
const TimestampTypes = require(`${root}protocol/timestampTypes.js`) as { LOG_APPEND_TIME: number; CREATE_TIME: number };
const DecoderClass = require(`${root}protocol/decoder.js`) as new (b: Buffer) => Decoder;
const { KafkaJSPartialMessageError } = require(`${root}errors.js`) as { KafkaJSPartialMessageError: new (m: string) => Error };
const { lookupCodecByAttributes } = require(`${root}protocol/message/compression/index.js`) as {
  lookupCodecByAttributes(a: number): { decompress(b: Buffer): Promise<Buffer> } | null;
};

interface LongValue {
  add(x: LongValue | number): LongValue;
  gte(x: LongValue): boolean;
  multiply(x: number): LongValue;
  toString(): string;
}
interface LongStatic {
  fromValue(v: string | number | LongValue): LongValue;
}
interface Decoder {
  buffer: Buffer;
  offset: number;
  readInt8(): number;
  readInt16(): number;
  readInt32(): number;
  readInt64(): { toString(): string };
  readAll(): Buffer;
  slice(size: number): Decoder;
  forward(size: number): void;
  readVarInt(): number;
  readVarLong(): LongValue;
  readVarIntBytes(): Buffer | null;
  readVarIntArray<T>(reader: (d: Decoder) => T): T[];
}
interface BatchContext {
  firstOffset: string;
  firstTimestamp: string;
  magicByte: number;
  isControlBatch?: boolean;
  timestampType: number;
  maxTimestamp: string;
}
type Message = FetchedMessage;
const SAFE = Number.MAX_SAFE_INTEGER;

/**
 * A zigzag varlong of at most 7 bytes (49 bits: exact as a double), or
 * undefined without moving the decoder when it is longer (the caller then
 * reads it with kafkajs's `Long` code).
 */
export function readSmallVarLong(d: Decoder): number | undefined {
  const buf = d.buffer;
  let at = d.offset;
  let result = 0;
  let mul = 1;
  for (let i = 0; i < 7; i++) {
    const b = buf[at++];
    result += (b & 0x7f) * mul;
    if (b < 0x80) {
      d.offset = at;
      return result % 2 === 0 ? result / 2 : -(result + 1) / 2;
    }
    mul *= 128;
  }
  return undefined;
}

const NO_HEADERS: Record<string, unknown> = Object.freeze({});

// The numbers of the record batch being decoded: every record of a batch shares its context object.
let lastContext: BatchContext | undefined;
let firstOffsetN = NaN;
let firstTimestampN = NaN;

/**
 * A record as kafkajs's record decoder gives it out, with its offset and
 * timestamp kept as numbers: kafkajs's API has them as decimal strings,
 * made here only when read (`offset`, `timestamp`). The engine reads the
 * numbers (offsetOf, timestampOf): String() of a 13-digit timestamp and of
 * the offset, parsed back at once, were the record decoder's largest cost.
 * The strings are accessors on the prototype, not own properties: an object
 * spread of a record leaves them out (nothing in kafkajs's fetch path or
 * the engine spreads one).
 */
export class DecodedRecord {
  constructor(
    readonly magicByte: number,
    readonly attributes: number,
    /** The offset as a number: exact below 2^53 (else the string is, see `offset`). */
    public offsetN: number,
    public timestampN: number,
    /** The strings, once made (or where only they are exact). */
    private offsetS: string | undefined,
    private timestampS: string | undefined,
    readonly key: Buffer | null,
    readonly value: Buffer | null,
    readonly headers: Record<string, unknown>,
    readonly isControlRecord: boolean,
    readonly batchContext: BatchContext,
  ) {}

  get offset(): string {
    return (this.offsetS ??= String(this.offsetN));
  }

  set offset(v: string) {
    this.offsetS = v;
    this.offsetN = Number(v);
  }

  get timestamp(): string {
    return (this.timestampS ??= String(this.timestampN));
  }

  set timestamp(v: string) {
    this.timestampS = v;
    this.timestampN = Number(v);
  }
}

/** A fetched message's offset as a number, without its string where the decoder kept the number. */
export function offsetOf(m: { offset: string }): number {
  return m instanceof DecodedRecord ? m.offsetN : Number(m.offset);
}

/** A fetched message's timestamp as a number (ms). */
export function timestampOf(m: { timestamp: string }): number {
  return m instanceof DecodedRecord ? m.timestampN : Number(m.timestamp);
}

/** kafkajs's record v0 decoder, with the same values (offset and timestamp made when read: DecodedRecord). */
export function decodeRecord(decoder: Decoder, batchContext: BatchContext = {} as BatchContext): DecodedRecord {
  const { firstOffset, firstTimestamp, magicByte, isControlBatch = false, timestampType, maxTimestamp } = batchContext;
  if (batchContext !== lastContext) {
    lastContext = batchContext;
    firstOffsetN = Number(firstOffset);
    firstTimestampN = Number(firstTimestamp);
  }
  const attributes = decoder.readInt8();
  const small = readSmallVarLong(decoder);
  const timestampDelta: number | LongValue = small ?? decoder.readVarLong();
  let timestamp: string | undefined;
  let timestampN: number;
  if (timestampType === TimestampTypes.LOG_APPEND_TIME && maxTimestamp) {
    timestamp = maxTimestamp;
    timestampN = Number(maxTimestamp);
  } else if (typeof timestampDelta === 'number' && Number.isSafeInteger(firstTimestampN) && Math.abs(firstTimestampN + timestampDelta) <= SAFE) {
    timestampN = firstTimestampN + timestampDelta;
  } else {
    timestamp = Long.fromValue(firstTimestamp).add(timestampDelta).toString();
    timestampN = Number(timestamp);
  }
  const offsetDelta = decoder.readVarInt();
  let offset: string | undefined;
  let offsetN: number;
  if (Number.isSafeInteger(firstOffsetN) && firstOffsetN + offsetDelta <= SAFE) {
    offsetN = firstOffsetN + offsetDelta;
  } else {
    offset = Long.fromValue(firstOffset).add(offsetDelta).toString();
    offsetN = Number(offset);
  }
  const key = decoder.readVarIntBytes();
  const value = decoder.readVarIntBytes();
  // kafkajs's header semantics: a repeated key collects its values in an array.
  const list = decoder.readVarIntArray(HeaderDecoder);
  // Most records have none: one frozen empty object for all of them.
  let headers = NO_HEADERS;
  if (list.length > 0) {
    headers = {};
    for (const { key: k, value: v } of list) {
      const had = Object.hasOwn(headers, k) ? headers[k] : undefined;
      const next = had === undefined ? v : Array.isArray(had) ? had.concat([v]) : [had, v];
      // An own property even for '__proto__', as kafkajs's object spread makes it.
      Object.defineProperty(headers, k, { value: next, enumerable: true, writable: true, configurable: true });
    }
  }
  return new DecodedRecord(magicByte, attributes, offsetN, timestampN, offset, timestamp, key, value, headers, isControlBatch, batchContext);
}

const TIMESTAMP_TYPE_FLAG_MASK = 0x8;
const TRANSACTIONAL_FLAG_MASK = 0x10;
const CONTROL_FLAG_MASK = 0x20;

/** kafkajs's record batch decoder, with the same output. */
export async function decodeRecordBatch(fetchDecoder: Decoder): Promise<Record<string, unknown>> {
  const firstOffset = fetchDecoder.readInt64().toString();
  const length = fetchDecoder.readInt32();
  const decoder = fetchDecoder.slice(length);
  fetchDecoder.forward(length);
  const remainingBytes = Buffer.byteLength(decoder.buffer);
  if (remainingBytes < length) {
    throw new KafkaJSPartialMessageError(`Tried to decode a partial record batch: remainingBytes(${remainingBytes}) < recordBatchLength(${length})`);
  }
  const partitionLeaderEpoch = decoder.readInt32();
  const magicByte = decoder.readInt8();
  decoder.readInt32(); // the CRC, which kafkajs does not check
  const attributes = decoder.readInt16();
  const lastOffsetDelta = decoder.readInt32();
  const firstTimestamp = decoder.readInt64().toString();
  const maxTimestamp = decoder.readInt64().toString();
  const producerId = decoder.readInt64().toString();
  const producerEpoch = decoder.readInt16();
  const firstSequence = decoder.readInt32();
  const inTransaction = (attributes & TRANSACTIONAL_FLAG_MASK) > 0;
  const isControlBatch = (attributes & CONTROL_FLAG_MASK) > 0;
  const timestampType = (attributes & TIMESTAMP_TYPE_FLAG_MASK) > 0 ? TimestampTypes.LOG_APPEND_TIME : TimestampTypes.CREATE_TIME;
  const recordContext = { firstOffset, firstTimestamp, partitionLeaderEpoch, inTransaction, isControlBatch, lastOffsetDelta, producerId, producerEpoch, firstSequence, maxTimestamp, timestampType };
  const context = { ...recordContext, magicByte } as BatchContext;
  const codec = lookupCodecByAttributes(attributes);
  const n = decoder.readInt32();
  let records: unknown[];
  if (!codec) records = n === -1 ? [] : readRecords(decoder, n, context);
  else records = n <= 0 ? [] : readRecords(new DecoderClass(await codec.decompress(decoder.readAll())), n, context);
  return { ...recordContext, records };
}

/** `n` records, each decoded where it lies in `d`'s buffer. */
function readRecords(d: Decoder, n: number, context: BatchContext): unknown[] {
  const records = new Array<unknown>(n);
  for (let i = 0; i < n; i++) {
    const size = d.readVarInt();
    const end = d.offset + size;
    if (size < 0 || end > d.buffer.length) throw new KafkaJSPartialMessageError(`Tried to decode a partial record: ${size} bytes at ${d.offset} of ${d.buffer.length}`);
    records[i] = decodeRecord(d, context);
    // A record that read past its length is corrupt (kafkajs would have read it short).
    if (d.offset > end) throw new KafkaJSPartialMessageError(`record at ${end - size} read ${d.offset - end + size} bytes of ${size}`);
    d.offset = end;
  }
  return records;
}

/** kafkajs's Batch, with the offset filter done on numbers while they are exact, and filterAborted. */
export class Batch {
  fetchedOffset: string;
  topic: string;
  partition: number;
  highWatermark: string;
  /** The partition's last stable offset when fetched (fetch v4 and later; '-1' when unknown): what read_committed can read up to. */
  lastStableOffset: string;
  rawMessages: Message[];
  messagesWithinOffset: Message[];
  messages: Message[];

  constructor(topic: string, fetchedOffset: string, partitionData: { partition: number; highWatermark: string; lastStableOffset?: string; abortedTransactions: unknown; messages: Message[] }) {
    this.fetchedOffset = fetchedOffset;
    const { abortedTransactions, messages } = partitionData;
    this.topic = topic;
    this.partition = partitionData.partition;
    this.highWatermark = partitionData.highWatermark;
    this.lastStableOffset = partitionData.lastStableOffset ?? '-1';
    this.rawMessages = messages;
    // A fetch can return records below the offset asked for (a whole record batch): they are dropped.
    const from = Number(fetchedOffset);
    if (Number.isSafeInteger(from)) {
      this.messagesWithinOffset = messages.filter((m) => offsetOf(m) >= from);
    } else {
      const longFrom = Long.fromValue(fetchedOffset);
      this.messagesWithinOffset = messages.filter((m) => Long.fromValue(m.offset).gte(longFrom));
    }
    // Neither aborted records nor control records are exposed.
    this.messages = filterAborted(this.messagesWithinOffset, abortedTransactions as AbortedTransaction[] | null).filter((m) => !m.isControlRecord);
  }

  isEmpty(): boolean {
    return this.messages.length === 0;
  }

  isEmptyIncludingFiltered(): boolean {
    return this.messagesWithinOffset.length === 0;
  }

  isEmptyDueToFiltering(): boolean {
    return this.isEmpty() && this.rawMessages.length > 0;
  }

  isEmptyControlRecord(): boolean {
    return this.isEmpty() && this.messagesWithinOffset.some(({ isControlRecord }) => isControlRecord);
  }

  isEmptyDueToLogCompactedMessages(): boolean {
    return this.rawMessages.length > 0 && this.isEmptyIncludingFiltered();
  }

  firstOffset(): string | null {
    return this.isEmptyIncludingFiltered() ? null : this.messagesWithinOffset[0].offset;
  }

  lastOffset(): string {
    if (this.isEmptyDueToLogCompactedMessages()) return this.fetchedOffset;
    if (this.isEmptyIncludingFiltered()) return Long.fromValue(this.highWatermark).add(-1).toString();
    return this.messagesWithinOffset[this.messagesWithinOffset.length - 1].offset;
  }

  offsetLag(): string {
    const lastOffsetOfPartition = Long.fromValue(this.highWatermark).add(-1);
    const lastConsumedOffset = Long.fromValue(this.lastOffset());
    return lastOffsetOfPartition.add(lastConsumedOffset.multiply(-1)).toString();
  }

  offsetLagLow(): string {
    if (this.isEmptyIncludingFiltered()) return '0';
    const lastOffsetOfPartition = Long.fromValue(this.highWatermark).add(-1);
    const firstConsumedOffset = Long.fromValue(this.firstOffset()!);
    return lastOffsetOfPartition.add(firstConsumedOffset.multiply(-1)).toString();
  }
}

function install(path: string, exports: unknown): boolean {
  const cached = require.cache[path];
  if (cached) return cached.exports === exports;
  const m = new Module(path);
  m.filename = path;
  m.loaded = true;
  m.exports = exports;
  require.cache[path] = m;
  return true;
}

const decoderPath = `${root}protocol/recordBatch/record/v0/decoder.js`;
const batchPath = `${root}consumer/batch.js`;
const batchDecoderPath = `${root}protocol/recordBatch/v0/decoder.js`;

/**
 * All or none: once kafkajs is loaded some of its modules are, and a process
 * that replaced only the others would run half of each.
 */
function installBoth(): boolean {
  if (require.cache[batchPath] && require.cache[batchPath].exports !== Batch) return false;
  if (require.cache[decoderPath] && require.cache[decoderPath].exports !== decodeRecord) return false;
  if (require.cache[batchDecoderPath] && require.cache[batchDecoderPath].exports !== decodeRecordBatch) return false;
  return install(decoderPath, decodeRecord) && install(batchDecoderPath, decodeRecordBatch) && install(batchPath, Batch);
}

export const kafkajsDecodePatched: boolean = installBoth();

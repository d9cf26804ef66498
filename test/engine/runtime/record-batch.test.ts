/**
 * The wire format of a batch to a worker: every record's offset, timestamp,
 * key and value read back exactly as they were fetched, with the bytes
 * copied in spans of the fetched data (one per record batch when it is not
 * compressed), from record batches kafkajs encoded and decoded.
 */
import { createRequire } from 'node:module';
import type { KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import '../../../engine/kafka/kafkajs-fast-decode.ts'; // kafkajs's decoders as the engine runs them
import { FetchedBatch, firstAtOrAbove } from '../../../engine/kafka/fetched-batch.ts';
import { toKafkaRecord } from '../../../engine/kafka/records.ts';
import { batchLength, encodeRecordBatch, encodeRecords, keyAt, valueAt, wireBytes, type RawRecord, type RecordBatchWire } from '../../../engine/runtime/record-batch.ts';

const require = createRequire(import.meta.url);
const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => unknown;
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => unknown;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
const decodeRecordBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (d: unknown) => Promise<{ records: KafkaMessage[] }>;
const { Types: Compression } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };

const T0 = 1_796_299_200_000;

/** A record batch as a broker returns it, encoded and decoded by kafkajs. */
async function fetched(records: Array<{ key: Buffer | null; value: Buffer | null; headers?: Record<string, string> }>, compression: number, firstOffset = 40): Promise<KafkaMessage[]> {
  const encoded = await RecordBatch({
    compression,
    firstOffset: String(firstOffset),
    firstTimestamp: T0,
    maxTimestamp: T0 + records.length,
    lastOffsetDelta: records.length - 1,
    records: records.map((r, i) => encodeRecord({ offsetDelta: i, timestampDelta: i * 3, key: r.key, value: r.value, headers: r.headers ?? {} })),
  });
  return (await decodeRecordBatch(new Decoder(encoded.buffer))).records;
}

function readBack(w: RecordBatchWire): RawRecord[] {
  return Array.from({ length: batchLength(w) }, (_, i) => ({ offset: w.meta[2 * i], timestamp: w.meta[2 * i + 1], key: keyAt(w, i), value: valueAt(w, i) }));
}

const bytesOf = (r: RawRecord): Array<number[] | null> => [r.key ? [...r.key] : null, r.value ? [...r.value] : null];

describe('record batch wire', () => {
  const records = Array.from({ length: 300 }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
    value: i % 7 === 0 ? null : i % 11 === 0 ? Buffer.alloc(0) : Buffer.from(JSON.stringify({ i, s: 'é😀'.repeat(i % 5), pad: 'x'.repeat(i % 50) })),
    headers: i % 13 === 0 ? { h: String(i) } : undefined,
  }));

  for (const [name, compression] of [['uncompressed', Compression.None], ['gzip', Compression.GZIP]] as const) {
    it(`carries what kafkajs decoded from a fetched record batch (${name}), from the position on`, async () => {
      const messages = await fetched(records, compression);
      const first = firstAtOrAbove(messages, 45);
      expect(first).toBe(5);
      const b = new FetchedBatch('t', 2, messages, first, 1000, 340);
      expect(b.length).toBe(295);
      expect([b.offset(0), b.timestamp(0), b.offset(294), b.timestamp(294)]).toEqual([45, T0 + 15, 339, T0 + 299 * 3]);
      const w = encodeRecords(b, 0, b.length);
      // The old road: a KafkaRecord per message.
      const expected = messages.slice(first).map((m) => toKafkaRecord('t', 2, m));
      expect(b.records).toEqual(expected);
      const got = readBack(w);
      expect(got.map((r) => [r.offset, r.timestamp])).toEqual(expected.map((r) => [r.offset, r.timestamp]));
      expect(got.map(bytesOf)).toEqual(expected.map((r) => bytesOf({ ...r, key: r.key, value: r.value })));
      // One span: the keys and values, and only the framing between them.
      const parts = expected.reduce((a, r) => a + (r.key?.length ?? 0) + (r.value?.length ?? 0), 0);
      expect(w.bytes.byteLength).toBeGreaterThanOrEqual(parts);
      expect(w.bytes.byteLength).toBeLessThan(parts + 30 * expected.length);
      expect(wireBytes(w)).toBe(w.bytes.byteLength + 295 * (16 + 16));
    });
  }

  it('copies parts that lie apart, overlap or are empty, one by one', () => {
    const pool = Buffer.from('0123456789'.repeat(100));
    const shared = Buffer.from('shared');
    const recs: RawRecord[] = [
      { offset: 1, timestamp: 10, key: pool.subarray(900, 905), value: pool.subarray(0, 10) }, // value before its key
      { offset: 2, timestamp: 11, key: null, value: pool.subarray(500, 520) }, // more than the gap away
      { offset: 3, timestamp: 12, key: shared, value: shared }, // the same bytes twice
      { offset: 4, timestamp: 13, key: Buffer.alloc(0), value: null },
      { offset: 5, timestamp: 14, value: Buffer.from('{"a":1}') },
      { offset: 6, timestamp: 15, key: pool.subarray(520, 521), value: pool.subarray(521, 530) },
    ];
    const got = readBack(encodeRecordBatch(recs));
    expect(got.map(bytesOf)).toEqual(recs.map((r) => bytesOf({ ...r, key: r.key ?? null })));
    expect(got[3].key).toEqual(new Uint8Array(0));
    expect(got.map((r) => r.offset)).toEqual([1, 2, 3, 4, 5, 6]);
  });
});

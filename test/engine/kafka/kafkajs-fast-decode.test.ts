import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGroupConsumer } from '../../../engine/kafka/consumer.ts';
import { Batch, decodeRecord, decodeRecordBatch, kafkajsDecodePatched, readSmallVarLong } from '../../../engine/kafka/kafkajs-fast-decode.ts';
import { filterAborted } from '../../../engine/kafka/aborted-transactions.ts';

const require = createRequire(import.meta.url);
type Fn = (...a: unknown[]) => unknown;

/** kafkajs's own module at `path`, compiled afresh (the cache holds the replacement). */
function original<T>(path: string): T {
  const file = require.resolve(path);
  const m = new Module(file) as Module & { _compile(code: string, file: string): void };
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(d: string): string[] })._nodeModulePaths(dirname(file));
  m._compile(readFileSync(file, 'utf8'), file);
  return m.exports as T;
}

const Decoder = require('kafkajs/src/protocol/decoder.js') as new (b: Buffer) => { readVarIntBytes(): Buffer; offset: number; readVarLong(): { toString(): string } };
const Encoder = require('kafkajs/src/protocol/encoder.js') as new () => { writeVarLong(v: unknown): { buffer: Buffer }; buffer: Buffer };
const encodeRecord = require('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (r: object) => { buffer: Buffer };
const originalDecode = original<Fn>('kafkajs/src/protocol/recordBatch/record/v0/decoder.js');
const originalDecodeBatch = original<Fn>('kafkajs/src/protocol/recordBatch/v0/decoder.js');
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0/index.js') as { RecordBatch: (o: object) => Promise<{ buffer: Buffer }> };
const { Types: Compression } = require('kafkajs/src/protocol/message/compression/index.js') as { Types: { None: number; GZIP: number } };
const OriginalBatch = original<new (...a: unknown[]) => Record<string, Fn | unknown>>('kafkajs/src/consumer/batch.js');

/** A record encoded by kafkajs, decoded by `decode` as kafkajs's batch decoder calls it: kafkajs's fields, as read. */
function roundTrip(decode: Fn, r: object, ctx: object): Record<string, unknown> {
  const d = new Decoder(encodeRecord(r).buffer);
  return fields(decode(new Decoder(d.readVarIntBytes()), ctx) as Record<string, unknown>);
}

/** The fields kafkajs's API gives a fetched record (the replacement's offset and timestamp are accessors). */
function fields(m: Record<string, unknown>): Record<string, unknown> {
  const { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord, batchContext } = m;
  return { magicByte, attributes, timestamp, offset, key, value, headers, isControlRecord, batchContext };
}

describe('kafkajs fetch decoding on numbers', () => {
  it('is what kafkajs loads when the engine loads kafkajs', () => {
    expect(typeof createGroupConsumer).toBe('function');
    expect(kafkajsDecodePatched).toBe(true);
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')).toBe(decodeRecord);
    expect(require('kafkajs/src/consumer/batch.js')).toBe(Batch);
    expect(require('kafkajs/src/protocol/recordBatch/v0/decoder.js')).toBe(decodeRecordBatch);
  });

  it('decodes record batches exactly as kafkajs does: uncompressed, gzip, transactional, with headers', async () => {
    const records = Array.from({ length: 50 }, (_, i) => encodeRecord({
      offsetDelta: i,
      timestampDelta: i * 7,
      key: i % 4 === 0 ? null : Buffer.from(`k${i}`),
      value: i % 9 === 0 ? null : Buffer.from(JSON.stringify({ i, s: 'é'.repeat(i) })),
      headers: i % 5 === 0 ? { h: String(i), r: ['a', 'b'] } : {},
    }));
    for (const compression of [Compression.None, Compression.GZIP]) {
      for (const transactional of [false, true]) {
        const { buffer } = await RecordBatch({ compression, transactional, firstOffset: '1234', firstTimestamp: 1796299200123, maxTimestamp: 1796299200500, lastOffsetDelta: 49, producerId: '77', records });
        const ours = await decodeRecordBatch(new Decoder(buffer) as never);
        const theirs = (await originalDecodeBatch(new Decoder(buffer))) as Record<string, unknown>;
        const theirRecords = (theirs.records as Array<Record<string, unknown>>).map(fields);
        expect({ ...ours, records: (ours.records as Array<Record<string, unknown>>).map(fields) }).toEqual({ ...theirs, records: theirRecords });
        expect(theirRecords.map((r) => [r.offset, r.timestamp])).toEqual(Array.from({ length: 50 }, (_, i) => [String(1234 + i), String(1796299200123 + i * 7)]));
        expect((ours.records as unknown[]).length).toBe(50);
      }
    }
    const { buffer } = await RecordBatch({ records: [encodeRecord({ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('x'), headers: {} })] });
    await expect(decodeRecordBatch(new Decoder(buffer.subarray(0, buffer.length - 2)) as never)).rejects.toThrow(/partial record batch/);
  });

  it('reads varlongs of up to 7 bytes as numbers, and leaves longer ones to kafkajs', () => {
    for (const v of [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31, -(2 ** 31) - 1, 2 ** 47, -(2 ** 48), 2 ** 48 - 1]) {
      const d = new Decoder(new Encoder().writeVarLong(v).buffer);
      expect(readSmallVarLong(d as never)).toBe(v);
    }
    const big = new Decoder(new Encoder().writeVarLong(2 ** 50).buffer);
    expect(readSmallVarLong(big as never)).toBeUndefined();
    expect(big.offset).toBe(0);
    expect(big.readVarLong().toString()).toBe(String(2 ** 50));
  });

  it('decodes records exactly as kafkajs does, inside and outside the exact range of doubles', () => {
    const contexts = [
      { firstOffset: '0', firstTimestamp: '1796299200123', magicByte: 2, timestampType: 0, maxTimestamp: '1796299201000' },
      { firstOffset: '123456789', firstTimestamp: '-1', magicByte: 2, timestampType: 0, maxTimestamp: '-1', isControlBatch: true },
      { firstOffset: '9007199254740990', firstTimestamp: '9007199254740990', magicByte: 2, timestampType: 0, maxTimestamp: '0' },
      { firstOffset: '5', firstTimestamp: '1000', magicByte: 2, timestampType: 1, maxTimestamp: '2000' },
    ];
    const records = [
      { offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('{"a":1}') },
      { offsetDelta: 7, timestampDelta: 1234, key: Buffer.from('k'), value: null, headers: { h: 'x' } },
      { offsetDelta: 300, timestampDelta: -5000, key: Buffer.from(''), value: Buffer.from('v'), headers: { a: ['1', '2', '3'], b: 'y' } },
      { offsetDelta: 2, timestampDelta: 2 ** 45, key: null, value: Buffer.from('w') },
      { offsetDelta: 3, timestampDelta: 2 ** 56, key: null, value: Buffer.from('z') },
    ];
    for (const ctx of contexts) {
      for (const r of records) expect(roundTrip(decodeRecord as Fn, r, ctx)).toEqual(roundTrip(originalDecode, r, ctx));
    }
  });

  it('filters a fetch like kafkajs Batch: records below the fetched offset and control records dropped', () => {
    const m = (offset: string, isControlRecord = false) => ({ offset, isControlRecord, key: null, value: Buffer.from('x'), batchContext: {} });
    const cases: Array<[string, Array<ReturnType<typeof m>>]> = [
      ['10', [m('8'), m('9'), m('10'), m('11'), m('12', true)]],
      ['0', []],
      ['5', [m('1'), m('2')]],
      ['9007199254740993', [m('9007199254740992'), m('9007199254740993'), m('9007199254740994')]],
    ];
    for (const [fetched, messages] of cases) {
      const data = { partition: 3, highWatermark: '20', abortedTransactions: [], messages };
      const ours = new Batch('t', fetched, data as never);
      const theirs = new OriginalBatch('t', fetched, data);
      expect(ours.messages).toEqual(theirs.messages);
      expect(ours.messagesWithinOffset).toEqual(theirs.messagesWithinOffset);
      for (const f of ['isEmpty', 'isEmptyIncludingFiltered', 'isEmptyDueToFiltering', 'isEmptyControlRecord', 'isEmptyDueToLogCompactedMessages', 'firstOffset', 'lastOffset', 'offsetLag', 'offsetLagLow'] as const) {
        expect((ours[f] as () => unknown)(), f).toEqual((theirs[f] as Fn).call(theirs));
      }
    }
  });

  it('drops aborted transactions in read_committed whatever order the broker lists them in (it lists them by end)', () => {
    const ABORT = Buffer.from([0, 0, 0, 0]);
    const COMMIT = Buffer.from([0, 0, 0, 1]);
    const rec = (offset: number, producerId: string, value: string) => ({ offset: String(offset), isControlRecord: false, key: null as Buffer | null, value, batchContext: { producerId, inTransaction: true } });
    const marker = (offset: number, producerId: string, key: Buffer) => ({ offset: String(offset), isControlRecord: true, key, value: null, batchContext: { producerId, inTransaction: true } });
    // A begins (0), B begins (1), A writes (2), B aborts (3), A aborts (4), C commits (5, 6), A commits (7, 8).
    const log = [rec(0, 'A', 'a1'), rec(1, 'B', 'b1'), rec(2, 'A', 'a2'), marker(3, 'B', ABORT), marker(4, 'A', ABORT), rec(5, 'C', 'c1'), marker(6, 'C', COMMIT), rec(7, 'A', 'a3'), marker(8, 'A', COMMIT)];
    const byEnd = [{ producerId: 'B', firstOffset: '1' }, { producerId: 'A', firstOffset: '0' }];
    const values = (ms: Array<{ value: string | null; isControlRecord: boolean }>) => ms.filter((m) => !m.isControlRecord).map((m) => m.value);
    expect(values(filterAborted(log, byEnd))).toEqual(['c1', 'a3']);
    expect(values(filterAborted(log, [...byEnd].reverse()))).toEqual(['c1', 'a3']);
    // A fetch from offset 2: both transactions began before it, both are open at its first record.
    expect(values(filterAborted(log.slice(2), byEnd))).toEqual(['c1', 'a3']);
    // kafkajs's own filter let a1 through (A's transaction began before B's and ended after it).
    const data = { partition: 0, highWatermark: '9', abortedTransactions: byEnd, messages: log };
    expect(new OriginalBatch('t', '0', data).messages).toContainEqual(log[0]);
    expect(new Batch('t', '0', data as never).messages.map((m) => (m as unknown as { value: string }).value)).toEqual(['c1', 'a3']);
    // A data record whose key happens to be 00 00 00 00 is not an abort marker.
    const spoof = [rec(0, 'A', 'a1'), { ...rec(1, 'A', 'a2'), key: ABORT }, marker(2, 'A', ABORT)];
    expect(values(filterAborted(spoof, [{ producerId: 'A', firstOffset: '0' }]))).toEqual([]);
  });
});

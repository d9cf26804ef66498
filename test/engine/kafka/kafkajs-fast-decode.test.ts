import Module, { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createGroupConsumer } from '../../../engine/kafka/consumer.ts';
import { Batch, decodeRecord, kafkajsDecodePatched, readSmallVarLong } from '../../../engine/kafka/kafkajs-fast-decode.ts';

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
const OriginalBatch = original<new (...a: unknown[]) => Record<string, Fn | unknown>>('kafkajs/src/consumer/batch.js');

/** A record encoded by kafkajs, decoded by `decode` as kafkajs's batch decoder calls it. */
function roundTrip(decode: Fn, r: object, ctx: object): Record<string, unknown> {
  const d = new Decoder(encodeRecord(r).buffer);
  return decode(new Decoder(d.readVarIntBytes()), ctx) as Record<string, unknown>;
}

describe('kafkajs fetch decoding on numbers', () => {
  it('is what kafkajs loads when the engine loads kafkajs', () => {
    expect(typeof createGroupConsumer).toBe('function');
    expect(kafkajsDecodePatched).toBe(true);
    expect(require('kafkajs/src/protocol/recordBatch/record/v0/decoder.js')).toBe(decodeRecord);
    expect(require('kafkajs/src/consumer/batch.js')).toBe(Batch);
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
});

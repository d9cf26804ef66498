import { describe, expect, it } from 'vitest';
import { chunkRecords, estimateRecordBytes, toMessages } from '../../../engine/kafka/produce-batches.ts';
import type { ProducerRecord } from '../../../engine/kafka/types.ts';

const rec = (topic: string, value: string, extra: Partial<ProducerRecord> = {}): ProducerRecord => ({
  topic,
  key: null,
  value,
  ...extra,
});

describe('produce batches', () => {
  it('estimates key, value and header bytes', () => {
    const base = estimateRecordBytes(rec('t', ''));
    expect(estimateRecordBytes(rec('t', 'abcd'))).toBe(base + 4);
    expect(estimateRecordBytes(rec('t', '', { key: Buffer.alloc(10) }))).toBe(base + 10);
    expect(estimateRecordBytes(rec('t', '', { headers: { h: 'xy' } }))).toBeGreaterThan(base + 3);
    expect(estimateRecordBytes(rec('t', 'é'))).toBe(base + 2);
  });

  it('cuts runs at the byte bound, in order, giving an oversized record a run of its own', () => {
    const records = [rec('t', 'a'.repeat(400)), rec('t', 'b'.repeat(400)), rec('t', 'c'.repeat(2000)), rec('t', 'd')];
    const chunks = chunkRecords(records, 1000);
    expect(chunks.map((c) => c.map((r) => String(r.value)[0]).join(''))).toEqual(['ab', 'c', 'd']);
    expect(chunkRecords([], 1000)).toEqual([]);
  });

  it('converts to the client\'s messages in submission order: Buffers, null values kept, optional fields only when set', () => {
    const out = toMessages([
      rec('a', '1', { partition: 2 }),
      rec('b', '2', { key: 'k', timestamp: 5 }),
      rec('a', null as unknown as string, { key: Buffer.from('t'), headers: { h: 'v', g: Buffer.from('w') } }),
    ]);
    expect(out).toEqual([
      { topic: 'a', key: undefined, value: Buffer.from('1'), partition: 2 },
      { topic: 'b', key: Buffer.from('k'), value: Buffer.from('2'), timestamp: 5n },
      {
        topic: 'a',
        key: Buffer.from('t'),
        value: null,
        headers: new Map([
          [Buffer.from('h'), Buffer.from('v')],
          [Buffer.from('g'), Buffer.from('w')],
        ]),
      },
    ]);
  });

  it('refuses a record without a topic', () => {
    expect(() => toMessages([rec('', 'x')])).toThrow(TypeError);
  });
});

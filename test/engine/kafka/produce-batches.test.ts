import { describe, expect, it } from 'vitest';
import { chunkRecords, estimateRecordBytes, toTopicMessages } from '../../../engine/kafka/produce-batches.ts';
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

  it('groups by topic keeping submission order and optional fields only when set', () => {
    const out = toTopicMessages([
      rec('a', '1', { partition: 2 }),
      rec('b', '2', { key: 'k', timestamp: 5 }),
      rec('a', '3', { headers: { h: 'v' } }),
    ]);
    expect(out).toEqual([
      { topic: 'a', messages: [{ key: null, value: '1', partition: 2 }, { key: null, value: '3', headers: { h: 'v' } }] },
      { topic: 'b', messages: [{ key: 'k', value: '2', timestamp: '5' }] },
    ]);
  });

  it('refuses a record without a topic', () => {
    expect(() => toTopicMessages([rec('', 'x')])).toThrow(TypeError);
  });
});

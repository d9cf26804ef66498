/**
 * chunkRecords also bounds the records per request, so that a run of tiny
 * records (tombstones with short keys) does not build one huge request (see
 * DEFAULT_MAX_REQUEST_RECORDS in engine/kafka/produce-batches.ts).
 */
import { describe, expect, it } from 'vitest';
import { chunkRecords, DEFAULT_MAX_REQUEST_RECORDS } from '../../../engine/kafka/produce-batches.ts';
import type { ProducerRecord } from '../../../engine/kafka/types.ts';

describe('chunkRecords record bound', () => {
  it('cuts runs at the record bound even when they are far below the byte bound, keeping order', () => {
    const n = Math.floor(2.5 * DEFAULT_MAX_REQUEST_RECORDS);
    const records: ProducerRecord[] = Array.from({ length: n }, (_, i) => ({ topic: 't', partition: 0, key: `k${i}`, value: 'v' }));
    const chunks = chunkRecords(records, 1 << 30);
    expect(chunks.map((c) => c.length)).toEqual([DEFAULT_MAX_REQUEST_RECORDS, DEFAULT_MAX_REQUEST_RECORDS, n - 2 * DEFAULT_MAX_REQUEST_RECORDS]);
    expect(chunks.flat()).toEqual(records);
    expect(chunkRecords(records.slice(0, 2500), 1 << 30, 700).map((c) => c.length)).toEqual([700, 700, 700, 400]);
  });
});

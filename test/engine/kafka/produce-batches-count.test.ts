/**
 * chunkRecords also bounds the records per request: kafkajs' grouping of a
 * request's records by partition is quadratic in their number (see
 * DEFAULT_MAX_REQUEST_RECORDS in engine/kafka/produce-batches.ts).
 */
import { describe, expect, it } from 'vitest';
import { chunkRecords, DEFAULT_MAX_REQUEST_RECORDS } from '../../../engine/kafka/produce-batches.ts';
import type { ProducerRecord } from '../../../engine/kafka/types.ts';

describe('chunkRecords record bound', () => {
  it('cuts runs at the record bound even when they are far below the byte bound, keeping order', () => {
    const records: ProducerRecord[] = Array.from({ length: 2500 }, (_, i) => ({ topic: 't', partition: 0, key: `k${i}`, value: 'v' }));
    const chunks = chunkRecords(records);
    expect(chunks.map((c) => c.length)).toEqual([DEFAULT_MAX_REQUEST_RECORDS, DEFAULT_MAX_REQUEST_RECORDS, 2500 - 2 * DEFAULT_MAX_REQUEST_RECORDS]);
    expect(chunks.flat()).toEqual(records);
    expect(chunkRecords(records, 1 << 30, 700).map((c) => c.length)).toEqual([700, 700, 700, 400]);
  });
});

import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { convertHeaders, convertMessages, toKafkaRecord } from '../../../engine/kafka/records.ts';

function message(offset: number, extra: Partial<KafkaMessage> = {}): KafkaMessage {
  return {
    key: Buffer.from(`k${offset}`),
    value: Buffer.from(`v${offset}`),
    timestamp: String(1_700_000_000_000 + offset),
    attributes: 0,
    offset: String(offset),
    size: 0,
    headers: {},
    ...extra,
  } as unknown as KafkaMessage;
}

describe('record conversion', () => {
  it('turns string offsets and timestamps into numbers once', () => {
    const r = toKafkaRecord('t', 2, message(41));
    expect(r).toEqual({
      topic: 't',
      partition: 2,
      offset: 41,
      key: Buffer.from('k41'),
      value: Buffer.from('v41'),
      timestamp: 1_700_000_000_041,
    });
    expect('headers' in r).toBe(false);
  });

  it('keeps null keys and values (tombstones)', () => {
    const r = toKafkaRecord('t', 0, message(1, { key: null, value: null }));
    expect(r.key).toBeNull();
    expect(r.value).toBeNull();
  });

  it('keeps large offsets exact up to 2^53', () => {
    expect(toKafkaRecord('t', 0, message(0, { offset: '9007199254740991' })).offset).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('flattens repeated headers to the last value and drops undefined ones', () => {
    expect(convertHeaders({ a: [Buffer.from('1'), 'two'], b: 'x', c: undefined })).toEqual({ a: 'two', b: 'x' });
    expect(convertHeaders({})).toBeUndefined();
    expect(convertHeaders(undefined)).toBeUndefined();
    expect(toKafkaRecord('t', 0, message(1, { headers: { h: Buffer.from('v') } })).headers).toEqual({ h: Buffer.from('v') });
  });

  it('drops records below the position', () => {
    const out = convertMessages('t', 0, [message(8), message(9), message(10), message(11)], 10);
    expect(out.map((r) => r.offset)).toEqual([10, 11]);
    expect(convertMessages('t', 0, [message(3)], 0).map((r) => r.offset)).toEqual([3]);
  });
});

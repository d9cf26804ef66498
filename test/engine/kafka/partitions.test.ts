import { describe, expect, it } from 'vitest';
import { fromAssignment, groupByTopic, keyOf, parseTpKey, sortTps, tpKey } from '../../../engine/kafka/partitions.ts';

describe('partition keys', () => {
  it('round-trips topic:partition, including topics with dots and dashes', () => {
    expect(tpKey('orders.v1-x', 3)).toBe('orders.v1-x:3');
    expect(parseTpKey('orders.v1-x:3')).toEqual({ topic: 'orders.v1-x', partition: 3 });
    expect(keyOf({ topic: 't', partition: 0 })).toBe('t:0');
  });

  it('rejects malformed keys', () => {
    for (const bad of ['t', ':1', 't:', 't:-1', 't:1.5', 't:x']) expect(() => parseTpKey(bad)).toThrow(TypeError);
  });

  it('groups by topic for kafkajs pause/resume, without duplicates, partitions sorted', () => {
    expect(
      groupByTopic([
        { topic: 'a', partition: 2 },
        { topic: 'b', partition: 0 },
        { topic: 'a', partition: 0 },
        { topic: 'a', partition: 2 },
      ]),
    ).toEqual([
      { topic: 'a', partitions: [0, 2] },
      { topic: 'b', partitions: [0] },
    ]);
  });

  it('flattens a member assignment in a stable order', () => {
    expect(fromAssignment({ b: [1, 0], a: [3] })).toEqual([
      { topic: 'a', partition: 3 },
      { topic: 'b', partition: 0 },
      { topic: 'b', partition: 1 },
    ]);
    expect(sortTps([{ topic: 'b', partition: 0 }, { topic: 'a', partition: 10 }, { topic: 'a', partition: 9 }])).toEqual([
      { topic: 'a', partition: 9 },
      { topic: 'a', partition: 10 },
      { topic: 'b', partition: 0 },
    ]);
  });
});

import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../../engine/kafka/admin.ts';
import { groupMessagesPerPartition, kafkajsGroupingPatched } from '../../../engine/kafka/kafkajs-linear-grouping.ts';

const require = createRequire(import.meta.url);

describe('kafkajs linear grouping', () => {
  it('is what kafkajs loads when the engine loads kafkajs', () => {
    expect(typeof createAdmin).toBe('function');
    expect(kafkajsGroupingPatched).toBe(true);
    expect(require('kafkajs/src/producer/groupMessagesPerPartition.js')).toBe(groupMessagesPerPartition);
  });

  it('groups like the original: by partition, each in input order', () => {
    const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, partition: (i * 7) % 4, i }));
    const partitioner = ({ message }: { message: unknown }): number => (message as { partition: number }).partition;
    const args = { topic: 't', partitionMetadata: [{}, {}, {}, {}], messages, partitioner };
    // The original, quadratic, written out: kafkajs's exact reduce.
    const original = messages.reduce<Record<number, unknown[]>>((result, message) => {
      const partition = partitioner({ message });
      const current = result[partition] || [];
      return Object.assign(result, { [partition]: [...current, message] });
    }, {});
    expect(groupMessagesPerPartition(args)).toEqual(original);
    expect(groupMessagesPerPartition({ ...args, partitionMetadata: [] })).toEqual({});
  });

  it('is linear: 200,000 records to one partition', () => {
    const messages = Array.from({ length: 200_000 }, (_, i) => ({ i }));
    const out = groupMessagesPerPartition({ topic: 't', partitionMetadata: [{}], messages, partitioner: () => 0 });
    expect(out[0]).toHaveLength(200_000);
    expect((out[0][199_999] as { i: number }).i).toBe(199_999);
  });
});

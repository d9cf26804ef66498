/**
 * Seek before delivery: the consumer delivers nothing of a newly assigned
 * partition until onAssigned has resolved and it has sought to the returned
 * offset; then everything from that offset on arrives once, in order.
 */
import { describe, expect, it } from 'vitest';
import { createTopic, uniqueName } from '../helpers/kafka.ts';
import { Kafka } from 'kafkajs';
import {
  clientConfig,
  ConsumerProbe,
  connectedProducer,
  producePerPartition,
  range,
  sleep,
  waitFor,
} from '../engine/kafka/support/harness.ts';

const PARTITIONS = 4;
const PER_PARTITION = 250; // 1,000 records

describe('kafka client: seek on assign', () => {
  it('delivers exactly the records at or above the offset onAssigned returns, once each, in order', async () => {
    const topic = await createTopic('seek', PARTITIONS);
    await producePerPartition(await connectedProducer('seek-producer'), topic, PARTITIONS, PER_PARTITION);

    // onAssigned takes a while: a consumer that fetched before it resolved would deliver from 0.
    const probe = await new ConsumerProbe('seek', topic, uniqueName('seek-group'), new Map(), {
      offsetFor: () => 100,
      assignDelayMs: 1_500,
    }).start();
    const expected = PARTITIONS * (PER_PARTITION - 100);
    await waitFor(() => probe.count >= expected, 30_000, () => `got ${probe.count} of ${expected}`);
    await sleep(1_000); // anything extra (duplicates, stray records) would show up now

    expect(probe.violations).toEqual([]);
    expect(probe.errors).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) {
      expect(probe.delivered.get(`${topic}:${p}`), `partition ${p}`).toEqual(range(100, PER_PARTITION));
    }
    expect(probe.count).toBe(expected);
    expect(probe.assignedCalls).toHaveLength(1);
    const lag = probe.consumer.lag();
    for (let p = 0; p < PARTITIONS; p++) expect(lag.get(`${topic}:${p}`)).toBe(0);
  });

  it('honours a different offset per partition, and -1 as the committed offset', async () => {
    const topic = await createTopic('seek-mixed', PARTITIONS);
    await producePerPartition(await connectedProducer('seek-mixed-producer'), topic, PARTITIONS, PER_PARTITION);
    const groupId = uniqueName('seek-mixed-group');
    // The group has a committed offset of 40 on partition 1 only; partition 3's -1 falls back to earliest.
    const kadmin = new Kafka({ brokers: clientConfig('x').brokers, logCreator: () => () => {} }).admin();
    await kadmin.connect();
    await kadmin.setOffsets({ groupId, topic, partitions: [{ partition: 1, offset: '40' }] });
    await kadmin.disconnect();

    const wanted: Record<number, number> = { 0: 0, 1: -1, 2: 249, 3: -1 };
    const probe = await new ConsumerProbe('seek-mixed', topic, groupId, new Map(), {
      offsetFor: (key) => wanted[Number(key.split(':').pop())],
    }).start();
    const expected = 250 + 210 + 1 + 250;
    await waitFor(() => probe.count >= expected, 30_000, () => `got ${probe.count} of ${expected}`);
    await sleep(1_000);
    expect(probe.violations).toEqual([]);
    expect(probe.delivered.get(`${topic}:0`)).toEqual(range(0, 250));
    expect(probe.delivered.get(`${topic}:1`)).toEqual(range(40, 250));
    expect(probe.delivered.get(`${topic}:2`)).toEqual([249]);
    expect(probe.delivered.get(`${topic}:3`)).toEqual(range(0, 250));
  });
});

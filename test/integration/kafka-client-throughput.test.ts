/**
 * A rough throughput reading for the record (printed, with a low floor so a
 * busy CI machine does not fail it): produce N small records with the
 * coalescing producer, then drain them through the group consumer.
 */
import { describe, expect, it } from 'vitest';
import { createTopic, uniqueName } from '../helpers/kafka.ts';
import { ConsumerProbe, connectedProducer, waitFor } from '../engine/kafka/support/harness.ts';

const PARTITIONS = 4;
const RECORDS = 200_000;
const SEND = 5_000;

describe('kafka client: throughput', () => {
  it(`produces and consumes ${RECORDS} records of 100 bytes`, async () => {
    const topic = await createTopic('throughput', PARTITIONS);
    const producer = await connectedProducer('throughput-producer');
    const value = Buffer.alloc(100, 'x');
    const t0 = performance.now();
    const sends: Promise<void>[] = [];
    for (let i = 0; i < RECORDS; i += SEND) {
      sends.push(
        producer.send(Array.from({ length: SEND }, (_, j) => ({ topic, partition: (i + j) % PARTITIONS, key: null, value }))),
      );
    }
    await Promise.all(sends);
    const produceMs = performance.now() - t0;

    let first = 0;
    const probe = new ConsumerProbe('throughput', topic, uniqueName('throughput-group'), new Map(), {
      onBatch: () => {
        first ||= performance.now();
      },
    });
    await probe.start();
    await waitFor(() => probe.count >= RECORDS, 120_000, () => `got ${probe.count} of ${RECORDS}`);
    const consumeMs = performance.now() - first;
    const produceRate = Math.round(RECORDS / (produceMs / 1000));
    const consumeRate = Math.round(RECORDS / (consumeMs / 1000));
    console.log(
      `[throughput] produce ${RECORDS} x 100 B: ${produceMs.toFixed(0)} ms (${produceRate} rec/s); ` +
        `consume: ${consumeMs.toFixed(0)} ms from first batch (${consumeRate} rec/s)`,
    );
    expect(probe.violations).toEqual([]);
    expect(probe.count).toBe(RECORDS);
    expect(consumeRate).toBeGreaterThan(5_000);
  });
});

/**
 * Backpressure: after pause(p) no record of p is delivered until resume(p),
 * including records of p that were already fetched; the other partitions keep
 * flowing; after resume p continues at exactly the next offset.
 */
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { tpKey } from '../../engine/kafka/partitions.ts';
import { createTopic, registerCleanup, uniqueName } from '../helpers/kafka.ts';
import {
  backgroundProducer,
  clientConfig,
  ConsumerProbe,
  connectedProducer,
  producePerPartition,
  range,
  sleep,
  unionOf,
  waitFor,
} from '../engine/kafka/support/harness.ts';

const PARTITIONS = 4;

describe('kafka client: pause and resume', () => {
  it('holds a paused partition while the others flow, then resumes it where it stopped', async () => {
    const topic = await createTopic('pause', PARTITIONS);
    const producer = backgroundProducer(await connectedProducer('pause-producer'), topic, PARTITIONS, 8, 20);
    registerCleanup(() => producer.stop());
    let paused = false;
    const leaks: number[] = [];
    const probe = await new ConsumerProbe('pause', topic, uniqueName('pause-group'), new Map(), {
      onBatch: (batch) => {
        if (paused && batch.partition === 0) leaks.push(...batch.records.map((r) => r.offset));
      },
    }).start();
    const p0 = tpKey(topic, 0);
    await waitFor(() => (probe.delivered.get(p0)?.length ?? 0) > 20, 30_000, () => `got ${probe.count}`);

    probe.consumer.pause([{ topic, partition: 0 }]);
    paused = true;
    const othersAtPause = probe.count - probe.delivered.get(p0)!.length;
    await sleep(3_000);
    const othersDuringPause = probe.count - probe.delivered.get(p0)!.length - othersAtPause;
    paused = false;
    probe.consumer.resume([{ topic, partition: 0 }]);
    const p0AtResume = probe.delivered.get(p0)!.length;

    expect(leaks).toEqual([]);
    expect(othersDuringPause).toBeGreaterThan(100);
    await waitFor(() => probe.delivered.get(p0)!.length > p0AtResume + 20, 30_000, () => 'p0 did not resume');

    await producer.stop();
    expect(producer.failure()).toBeUndefined();
    const admin = createAdmin(clientConfig('pause-admin'));
    registerCleanup(() => admin.close());
    const ends = await admin.topicEndOffsets(topic);
    const total = [...ends.values()].reduce((s, n) => s + n, 0);
    await waitFor(() => probe.count >= total, 30_000, () => `got ${probe.count} of ${total}`);
    await sleep(500);
    expect(probe.violations).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) expect(unionOf([probe], tpKey(topic, p))).toEqual(range(0, ends.get(p)!));
  });

  it('drops already-fetched batches of partitions paused from inside onBatch, and refetches them after resume', async () => {
    const topic = await createTopic('pause-inflight', PARTITIONS);
    // Data on every partition before the consumer starts: its first fetch returns all four.
    await producePerPartition(await connectedProducer('pause-inflight-producer'), topic, PARTITIONS, 200);
    let first: number | undefined;
    const leaks: string[] = [];
    const probe = await new ConsumerProbe('inflight', topic, uniqueName('pause-inflight-group'), new Map(), {
      onBatch: (batch, self) => {
        if (first === undefined) {
          // Backpressure from the first batch: stop everything else, and this partition too.
          first = batch.partition;
          self.consumer.pause(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
        } else if (!resumed) {
          leaks.push(`${batch.partition}@${batch.records[0].offset}`);
        }
      },
    }).start();
    let resumed = false;
    await waitFor(() => first !== undefined, 30_000, () => 'no batch');
    await sleep(2_000);
    expect(leaks).toEqual([]);
    expect(probe.delivered.size).toBe(1);

    resumed = true;
    probe.consumer.resume(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition })));
    await waitFor(() => probe.count >= PARTITIONS * 200, 30_000, () => `got ${probe.count}`);
    await sleep(500);
    expect(probe.violations).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) expect(probe.delivered.get(tpKey(topic, p))).toEqual(range(0, 200));
  });
});

/**
 * Holding (the engine's input alignment, engine/runtime/kafka-alignment.ts):
 * hold(p) stops fetching p, but a batch of p already fetched is still
 * delivered, once: nothing is dropped and fetched again, nothing twice.
 * release(p) continues at the next offset; it never overrides a pause, and
 * resume never overrides a hold.
 */
import { describe, expect, it } from 'vitest';
import { tpKey } from '../../engine/kafka/partitions.ts';
import { createTopic, uniqueName } from '../helpers/kafka.ts';
import { ConsumerProbe, connectedProducer, producePerPartition, range, sleep, waitFor } from '../engine/kafka/support/harness.ts';

const PARTITIONS = 4;
const all = (topic: string) => Array.from({ length: PARTITIONS }, (_, partition) => ({ topic, partition }));

describe('kafka client: hold and release', () => {
  it('delivers what was fetched before a hold, fetches nothing more until release, and nothing twice', async () => {
    const topic = await createTopic('hold', PARTITIONS);
    // 20 sends of 10 records a partition: small record batches, so one fetch response of 2 KiB a partition
    // holds a part of every partition (a record batch is never split; one over the limit comes alone).
    const producer = await connectedProducer('hold-producer');
    for (let k = 0; k < 20; k++) {
      await producer.send(Array.from({ length: 10 * PARTITIONS }, (_, i) => ({ topic, partition: i % PARTITIONS, key: null, value: `${i % PARTITIONS}:${k * 10 + Math.floor(i / PARTITIONS)}` })));
    }
    let held = false;
    let released = false;
    /** Batches delivered per partition while held. */
    const whileHeld = new Map<number, number>();
    const probe = await new ConsumerProbe('hold', topic, uniqueName('hold-group'), new Map(), {
      // Small fetches, so the first response holds a part of each partition.
      consumer: { maxBytesPerPartition: 2048, maxBytes: 8192 },
      onBatch: (batch, self) => {
        if (!held) {
          held = true;
          self.consumer.hold(all(topic));
          return;
        }
        if (!released) whileHeld.set(batch.partition, (whileHeld.get(batch.partition) ?? 0) + 1);
      },
    }).start();
    await waitFor(() => held, 30_000, () => 'no batch');
    await sleep(1_500);
    const atHold = probe.count;
    await sleep(1_500);
    // Fetching stopped: nothing new in the second half, and at most the one batch per partition that was in flight.
    expect(probe.count).toBe(atHold);
    expect(atHold).toBeLessThan(PARTITIONS * 200);
    for (const n of whileHeld.values()) expect(n).toBeLessThanOrEqual(1);
    // The first response held every partition (all had data before the start): the batches it brought
    // after the one that held them were delivered, not dropped (a pause drops them).
    expect([...whileHeld.values()].reduce((s, n) => s + n, 0)).toBeGreaterThan(0);

    released = true;
    probe.consumer.release(all(topic));
    await waitFor(() => probe.count >= PARTITIONS * 200, 30_000, () => `got ${probe.count}`);
    await sleep(500);
    expect(probe.violations).toEqual([]);
    // Every offset exactly once, in order: a batch delivered while held was not fetched and delivered again.
    for (let p = 0; p < PARTITIONS; p++) expect(probe.delivered.get(tpKey(topic, p))).toEqual(range(0, 200));
  });

  it('a release does not resume a paused partition, and a resume does not release a held one', async () => {
    const topic = await createTopic('hold-pause', PARTITIONS);
    await producePerPartition(await connectedProducer('hold-pause-producer'), topic, PARTITIONS, 100);
    const probe = new ConsumerProbe('hold-pause', topic, uniqueName('hold-pause-group'), new Map());
    // Held and paused before the first join: a partition is fetched only once ready, not paused and not held.
    const p0 = { topic, partition: 0 };
    const p1 = { topic, partition: 1 };
    probe.consumer.hold([p0, p1]);
    probe.consumer.pause([p0, p1]);
    await probe.start();
    await waitFor(() => probe.count >= 2 * 100, 30_000, () => `got ${probe.count}`);
    probe.consumer.release([p0]);
    probe.consumer.resume([p1]);
    await sleep(2_000);
    expect(probe.delivered.get(tpKey(topic, 0)) ?? []).toEqual([]);
    expect(probe.delivered.get(tpKey(topic, 1)) ?? []).toEqual([]);

    probe.consumer.resume([p0]);
    probe.consumer.release([p1]);
    await waitFor(() => probe.count >= PARTITIONS * 100, 30_000, () => `got ${probe.count}`);
    await sleep(500);
    expect(probe.violations).toEqual([]);
    for (let p = 0; p < PARTITIONS; p++) expect(probe.delivered.get(tpKey(topic, p))).toEqual(range(0, 100));
  });
});

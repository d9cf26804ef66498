/**
 * read_committed reading of a partition that two transactional producers
 * write at once (a dead-letter topic: every actor's letters with the same
 * reason go to one partition; a repartition topic). The broker lists a fetch's
 * aborted transactions in the order they ENDED, not the order they began;
 * kafkajs' filter took the list as sorted by first offset and let the records
 * of an aborted transaction that began before an earlier-aborted one through.
 * After a crash both actors' open transactions are aborted on restart, in
 * either order, and their epochs are sent again: duplicates (seen once in
 * kafka-sink-exactly-once, "after-commit").
 */
import { describe, expect, it } from 'vitest';
import { createGroupConsumer } from '../../engine/kafka/consumer.ts';
import { readPartitions } from '../../engine/kafka/partition-reader.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { ConsumerProbe, waitFor } from '../engine/kafka/support/harness.ts';

describe('read_committed with interleaved aborted transactions', () => {
  it('hides every aborted record, whichever transaction ended first', async () => {
    expect(typeof createGroupConsumer).toBe('function'); // the engine's kafkajs (with its decode patch) is loaded
    const topic = await createTopic('aborts', 1);
    const k = kafkaClient();
    const a = k.producer({ transactionalId: uniqueName('txa'), maxInFlightRequests: 1, idempotent: true });
    const b = k.producer({ transactionalId: uniqueName('txb'), maxInFlightRequests: 1, idempotent: true });
    const plain = k.producer();
    await Promise.all([a.connect(), b.connect(), plain.connect()]);
    await plain.send({ topic, messages: [{ value: 'before' }] });
    // A begins first, B second; B ends (aborts) first, A second.
    const ta = await a.transaction();
    await ta.send({ topic, messages: [{ partition: 0, value: 'a1' }] });
    const tb = await b.transaction();
    await tb.send({ topic, messages: [{ partition: 0, value: 'b1' }] });
    await ta.send({ topic, messages: [{ partition: 0, value: 'a2' }] });
    await tb.abort();
    await ta.abort();
    // And the other order: B begins, A begins, A aborts, B aborts; then a committed one of each.
    const tb2 = await b.transaction();
    await tb2.send({ topic, messages: [{ partition: 0, value: 'b2' }] });
    const ta2 = await a.transaction();
    await ta2.send({ topic, messages: [{ partition: 0, value: 'a3' }] });
    await ta2.abort();
    await tb2.abort();
    const ta3 = await a.transaction();
    await ta3.send({ topic, messages: [{ partition: 0, value: 'a-committed' }] });
    const tb3 = await b.transaction();
    await tb3.send({ topic, messages: [{ partition: 0, value: 'b-committed' }] });
    await ta3.commit();
    await tb3.commit();
    await plain.send({ topic, messages: [{ value: 'after' }] });
    const seen: string[] = [];
    await readPartitions({ brokers: kafkaBrokers(), clientId: 'aborts-reader' }, [topic], 0, (_t, recs) => {
      for (const r of recs) seen.push(r.value!.toString());
    });
    expect(seen).toEqual(['before', 'a-committed', 'b-committed', 'after']);
  });

  it('tells where the readable records end: the last stable offset while a transaction is open, not the high watermark', async () => {
    const topic = await createTopic('lso', 1);
    const k = kafkaClient();
    const plain = k.producer();
    const tx = k.producer({ transactionalId: uniqueName('txlso'), maxInFlightRequests: 1, idempotent: true });
    await Promise.all([plain.connect(), tx.connect()]);
    await plain.send({ topic, messages: [0, 1, 2, 3, 4].map((i) => ({ partition: 0, value: `c${i}` })) });
    // Open, and left open while the consumer reads: offset 5 is written, not readable.
    const t = await tx.transaction();
    await t.send({ topic, messages: [{ partition: 0, value: 'open' }] });
    const batches: Array<{ nextOffset: number; highWatermark: number; readEnd: number }> = [];
    const probe = await new ConsumerProbe('lso', topic, uniqueName('lso-group'), new Map(), {
      onBatch: (b) => void batches.push({ nextOffset: b.nextOffset, highWatermark: b.highWatermark, readEnd: b.readEnd }),
    }).start();
    await waitFor(() => probe.count >= 5, 30_000, () => `got ${probe.count}`);
    await t.commit();
    await waitFor(() => probe.count >= 6, 30_000, () => `got ${probe.count} after the commit`);
    await Promise.all([plain.disconnect(), tx.disconnect()]);
    // The first batch ended at the open transaction: readable up to 5, written up to 6.
    expect(batches[0]).toEqual({ nextOffset: 5, highWatermark: 6, readEnd: 5 });
    // After the commit (its marker at offset 6) everything is readable.
    expect(batches.at(-1)!.readEnd).toBe(batches.at(-1)!.highWatermark);
    expect(probe.violations).toEqual([]);
  });
});

/**
 * The memory bounds of a catch-up (docs/engine.md, "Memory budget"), from the
 * engine's own counters: a backlog far larger than the bounds is consumed,
 * and what was in flight to a worker never exceeded the bound plus one
 * batch; no epoch grew past its bound plus one batch, and the undelivered
 * epochs stayed under theirs, with checkpoints taken during the flood.
 */
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { applySettings, loadJob } from '../../engine/runtime/job-loader.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/sluice-process.ts';

describe('memory bounds over Kafka', () => {
  it('keeps the bytes in flight to the workers under maxInflightBytes (plus one batch) while a backlog is consumed', async () => {
    const topic = await createTopic('backlog', 2);
    const producer = kafkaClient().producer();
    await producer.connect();
    const pad = 'x'.repeat(200);
    const total = 40_000;
    for (let i = 0; i < total; i += 2000) {
      await producer.send({ topic, messages: Array.from({ length: 2000 }, (_, j) => ({ key: `k${(i + j) % 50}`, value: JSON.stringify({ key: `k${(i + j) % 50}`, seq: i + j, pad }) })) });
    }
    await producer.disconnect();
    // A worker slower than the feed (5 ms per batch), so that batches wait for it.
    const url = new URL('../fixtures/jobs/slow-job.ts', import.meta.url).href;
    const job = await loadJob(url);
    // About 10 MB of backlog against a bound of 64 KiB per partition.
    const bound = 64 << 10;
    const r = new JobRunner({
      jobModule: url, job, settings: applySettings(job.settings, { topic, blockMs: '5' }), workers: 2, brokers: kafkaBrokers(), stateDir: tempDir(), outputDir: tempDir(),
      groupId: uniqueName('backlog'), checkpointIntervalMs: 200, sessionTimeoutMs: 6000, maxInflightBytes: bound,
    });
    await r.start();
    await waitFor('the backlog consumed', () => r.summary().recordsIn === total, 120_000, 200);
    const parts = r.inputStats()!.partitions;
    await r.stop();
    expect(parts).toHaveLength(2);
    for (const p of parts) {
      // The bound engaged (a batch crossed it), and held: at most the bound plus the batch that crossed it.
      expect(p.peakInflightBytes).toBeGreaterThan(bound);
      expect(p.peakInflightBytes).toBeLessThanOrEqual(bound + p.maxBatchBytes);
      expect(p.inflightBytes).toBe(0);
    }
  });

  it('closes each epoch at its bound during a flood, from the batch loop, with the checkpoint interval far away', async () => {
    const topic = await createTopic('flood', 2);
    const producer = kafkaClient().producer();
    await producer.connect();
    const pad = 'x'.repeat(200);
    const total = 40_000;
    // Every record has a key of its own: one dirty state entry (one changelog record) each.
    const value = (seq: number): string => JSON.stringify({ key: `k${String(seq).padStart(6, '0')}`, seq, pad });
    for (let i = 0; i < total; i += 2000) {
      await producer.send({ topic, messages: Array.from({ length: 2000 }, (_, j) => ({ key: `k${i + j}`, value: value(i + j) })) });
    }
    await producer.disconnect();
    const url = new URL('../fixtures/jobs/keyed-flood-job.ts', import.meta.url).href;
    const job = await loadJob(url);
    const maxEpochRecords = 2000;
    const maxUndeliveredRecords = 4000;
    const r = new JobRunner({
      jobModule: url, job, settings: applySettings(job.settings, { topic }), workers: 1, brokers: kafkaBrokers(), stateDir: tempDir(), outputDir: tempDir(),
      groupId: uniqueName('flood'),
      // No checkpoint by the interval while the backlog is consumed: only the epoch bound closes epochs.
      checkpointIntervalMs: 600_000, sessionTimeoutMs: 6000, maxEpochRecords, maxUndeliveredRecords, maxInflightBytes: 256 << 10,
    });
    await r.start();
    await waitFor('the backlog consumed', () => r.summary().recordsIn === total, 120_000, 200);
    const stats = [...r.stats.values()];
    const parts = r.inputStats()!.partitions;
    await r.stop();
    expect(stats).toHaveLength(2);
    for (const a of stats) {
      const p = parts.find((x) => x.partition === a.partition)!;
      // A batch holds at most maxBatchBytes of wire bytes, so at most this many records (each one dirty entry).
      const batchRecords = Math.floor(p.maxBatchBytes / value(0).length);
      const keys = a.recordsIn.reduce((x, y) => x + y, 0);
      expect(keys).toBeGreaterThan(maxEpochRecords * 3);
      // The epoch closed at its bound every time, not once at the end: all but the last (open, at most
      // the bound) were closed by it, each with at most the bound plus a batch.
      expect(a.epochBoundCheckpoints).toBeGreaterThanOrEqual(Math.ceil((keys - maxEpochRecords) / (maxEpochRecords + batchRecords)));
      expect(a.checkpoints).toBeGreaterThanOrEqual(a.epochBoundCheckpoints);
      // No epoch queued more than its bound, plus the batch that crossed it, plus the marker.
      expect(a.peakEpochRecords).toBeGreaterThan(maxEpochRecords);
      expect(a.peakEpochRecords).toBeLessThanOrEqual(maxEpochRecords + batchRecords + 1);
      // Undelivered: the bound, plus the epochs made from what was in flight when the input paused.
      const inflightRecords = Math.ceil((256 << 10) / value(0).length) + batchRecords;
      expect(a.peakUndeliveredRecords).toBeLessThanOrEqual(maxUndeliveredRecords + a.peakEpochRecords + inflightRecords);
      console.log(`[flood] p${a.partition}: ${keys} records, ${a.checkpoints} checkpoints (${a.epochBoundCheckpoints} at the bound), peak epoch ${a.peakEpochRecords} records (batches up to ${batchRecords}), peak undelivered ${a.peakUndeliveredRecords}`);
    }
  });
});

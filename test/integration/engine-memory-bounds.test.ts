/**
 * The memory bounds of a catch-up (docs/engine.md, "Memory budget"), from the
 * engine's own counters: a backlog far larger than the bound is consumed,
 * and what was in flight to a worker never exceeded the bound plus one batch.
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
});

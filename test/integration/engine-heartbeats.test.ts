/**
 * Processing never stalls the consumer's heartbeats (kafkajs #1527, #1719):
 * workers blocked far longer than the session timeout cause no rebalance,
 * because the consumer and its heartbeats live on the main thread.
 */
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { applySettings, loadJob } from '../../engine/runtime/job-loader.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/sluice-process.ts';
import { groupCaughtUp } from './engine-kafka-helpers.ts';

describe('heartbeats under heavy processing', () => {
  it('workers blocked for 3x the session timeout cause no rebalance', async () => {
    const topic = await createTopic('slow', 2);
    const producer = kafkaClient().producer();
    await producer.connect();
    const url = new URL('../fixtures/jobs/slow-job.ts', import.meta.url).href;
    const job = await loadJob(url);
    const group = uniqueName('slow-group');
    const r = new JobRunner({
      jobModule: url, job, settings: applySettings(job.settings, { topic, blockMs: '2500' }), workers: 2, brokers: kafkaBrokers(),
      stateDir: tempDir(), outputDir: tempDir(), groupId: group, sessionTimeoutMs: 6000, // the broker's minimum
    });
    const t0 = Date.now();
    await r.start();
    // Records trickle in, so each fetch is its own small batch, and each batch blocks its worker 2.5 s:
    // 8 batches per partition keep each worker blocked for about 20 s in all.
    for (let i = 0; i < 16; i++) {
      await producer.send({ topic, messages: [{ key: `k${i}`, value: JSON.stringify({ i }) }] });
      await new Promise((res) => setTimeout(res, 300));
    }
    await producer.disconnect();
    await waitFor('all 16 records processed', () => groupCaughtUp(group, topic), 90_000, 300);
    const busyMs = Date.now() - t0;
    expect(busyMs).toBeGreaterThan(18_000); // the workers really were blocked for 3 session timeouts or more
    expect(r.inputStats()?.rebalances).toBe(0);
    const s = await r.stop();
    expect(s.recordsIn).toBe(16);
  });
});

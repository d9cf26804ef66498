/**
 * Kafka output is exactly-once across crashes: an append-only job (no key to
 * upsert by) is crashed at each phase of a checkpoint, restarted on the same
 * state, and every input record must appear exactly once in the output topic
 * and every poison record exactly once in the dead-letter topic, as read by a
 * read_committed reader. Without the epoch transaction (changelog.ts), a
 * crash after delivery and before the ack redelivers the epoch: duplicates.
 */
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { readPartitions } from '../../engine/kafka/partition-reader.ts';
import { checkpointTopic } from '../../engine/runtime/changelog.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { startSluice, waitFor } from '../helpers/sluice-process.ts';

const TOTAL = 6000;
const jobPath = new URL('../fixtures/jobs/kafka-append-job.ts', import.meta.url).pathname;

async function readIds(topic: string, partitions: number): Promise<number[]> {
  const ids: number[] = [];
  for (let p = 0; p < partitions; p++) {
    await readPartitions({ brokers: kafkaBrokers(), clientId: 'eo-reader' }, [topic], p, (_t, recs) => {
      for (const r of recs) {
        // Output rows are { id, twice }; dead letters carry the failed record as `value`.
        const v = JSON.parse(r.value!.toString()) as { id?: number; value?: { id: number } };
        ids.push(v.id ?? v.value!.id);
      }
    });
  }
  return ids;
}

/** Checkpoint markers in the job's checkpoint topic, and the offsets they and the transaction markers take. */
async function checkpointTopicCounts(app: string, partitions: number): Promise<{ markers: number; offsets: number }> {
  const cfg = { brokers: kafkaBrokers(), clientId: 'eo-reader' };
  let markers = 0;
  for (let p = 0; p < partitions; p++) await readPartitions(cfg, [checkpointTopic(app)], p, (_t, recs) => (markers += recs.length));
  const admin = createAdmin(cfg);
  try {
    const ends = await admin.topicEndOffsets(checkpointTopic(app));
    return { markers, offsets: [...ends.values()].reduce((a, b) => a + b, 0) };
  } finally {
    await admin.close();
  }
}

describe('Kafka sink: exactly-once across crashes', () => {
  const cases = [
    { point: 'after-prepare', intervalMs: 50, after: 3, send: 200, pauseMs: 100 },
    { point: 'after-commit', intervalMs: 50, after: 3, send: 200, pauseMs: 100 },
    { point: 'after-deliver', intervalMs: 50, after: 3, send: 200, pauseMs: 100 },
    // 10 ms checkpoints (the least the CLI takes) under steady input queue up behind each Kafka
    // transaction, which then carries several epochs at once (ChangelogDriver.deliverEpochs).
    { point: 'after-deliver', intervalMs: 10, after: 40, send: 25, pauseMs: 10 },
  ] as const;
  for (const { point, intervalMs, after, send, pauseMs } of cases) {
    it(`a crash ${point} (checkpoints every ${intervalMs} ms) neither loses nor duplicates output or dead letters`, async () => {
      const input = await createTopic('eo-in', 2);
      const output = await createTopic('eo-out', 2);
      const dlq = await createTopic('eo-dlq', 2);
      // Input keeps arriving in small sends, so that epochs follow each other while the job runs,
      // and it goes on until the first run has crashed: on a loaded machine a fixed amount could
      // all be processed in fewer checkpoints than the fault needs, and the crash never come.
      const producer = kafkaClient().producer();
      await producer.connect();
      let sent = 0;
      let crashed = false;
      const produce = (async () => {
        while (sent < TOTAL || !crashed) {
          await producer.send({ topic: input, messages: Array.from({ length: send }, (_, i) => ({ key: `k${(sent + i) % 13}`, value: JSON.stringify({ id: sent + i }) })) });
          sent += send;
          await new Promise((r) => setTimeout(r, pauseMs));
        }
        await producer.disconnect();
      })();
      const groupId = uniqueName('eo');
      const args = [
        'run', jobPath, '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', tempDir(), '--output-dir', tempDir(),
        '--group-id', groupId, '--checkpoint-interval', String(intervalMs), '--session-timeout', '6000', '--no-progress',
        '--set', `input=${input}`, '--set', `output=${output}`, '--set', `dlqTopic=${dlq}`,
      ];
      // First run: the process is SIGKILLed at the fault point after a few checkpoints, mid-input.
      const first = startSluice(args, { SLUICE_FAULT_INJECT: `${point}:${after}` });
      const firstExit = await Promise.race([first.exited, new Promise((r) => setTimeout(() => r('still running after 120 s'), 120_000))]);
      crashed = true;
      expect(firstExit, first.stderr().slice(-2000)).toBe('SIGKILL');
      expect(first.stderr()).toContain(`injected crash at ${point}`);
      // Second run on the same state and group: it finishes the input, then drains on SIGTERM.
      const second = startSluice(args);
      await produce;
      const want = Array.from({ length: sent }, (_, i) => i);
      await waitFor('the output to hold every record', async () => (await readIds(output, 2)).length >= want.filter((i) => i % 10 !== 7).length, 60_000, 500)
        .catch((err: Error) => Promise.reject(new Error(`${err.message}\n${second.stderr().slice(-2000)}`)));
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      const out = (await readIds(output, 2)).sort((a, b) => a - b);
      expect(out).toEqual(want.filter((i) => i % 10 !== 7));
      const dead = (await readIds(dlq, 2)).sort((a, b) => a - b);
      expect(dead).toEqual(want.filter((i) => i % 10 === 7));
      if (intervalMs === 10) {
        // Each transaction ends with one commit marker (an offset, but no record) in every
        // partition it wrote: fewer commits than checkpoint markers means some carried several.
        const { markers, offsets } = await checkpointTopicCounts(groupId, 2);
        expect(markers).toBeGreaterThan(offsets - markers);
      }
    });
  }
});

/**
 * Kafka output is exactly-once across crashes: an append-only job (no key to
 * upsert by) is crashed at each phase of a checkpoint, restarted on the same
 * state, and every input record must appear exactly once in the output topic
 * and every poison record exactly once in the dead-letter topic, as read by a
 * read_committed reader. Without the epoch transaction (changelog.ts), a
 * crash after delivery and before the ack redelivers the epoch: duplicates.
 */
import { describe, expect, it } from 'vitest';
import { readPartitions } from '../../engine/kafka/partition-reader.ts';
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

describe('Kafka sink: exactly-once across crashes', () => {
  for (const point of ['after-prepare', 'after-commit', 'after-deliver'] as const) {
    it(`a crash ${point} neither loses nor duplicates output or dead letters`, async () => {
      const input = await createTopic('eo-in', 2);
      const output = await createTopic('eo-out', 2);
      const dlq = await createTopic('eo-dlq', 2);
      // Input keeps arriving in small sends, so that epochs follow each other while the job runs.
      const producer = kafkaClient().producer();
      await producer.connect();
      const produce = (async () => {
        for (let at = 0; at < TOTAL; at += 200) {
          await producer.send({ topic: input, messages: Array.from({ length: 200 }, (_, i) => ({ key: `k${(at + i) % 13}`, value: JSON.stringify({ id: at + i }) })) });
          await new Promise((r) => setTimeout(r, 100));
        }
        await producer.disconnect();
      })();
      const args = [
        'run', jobPath, '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', tempDir(), '--output-dir', tempDir(),
        '--group-id', uniqueName('eo'), '--checkpoint-interval', '50', '--session-timeout', '6000', '--no-progress',
        '--set', `input=${input}`, '--set', `output=${output}`, '--set', `dlqTopic=${dlq}`,
      ];
      // First run: the process is SIGKILLed at the fault point after a few checkpoints, mid-input.
      const first = startSluice(args, { SLUICE_FAULT_INJECT: `${point}:3` });
      expect(await first.exited).toBe('SIGKILL');
      expect(first.stderr()).toContain(`injected crash at ${point}`);
      // Second run on the same state and group: it finishes the input, then drains on SIGTERM.
      const second = startSluice(args);
      await produce;
      const want = Array.from({ length: TOTAL }, (_, i) => i);
      await waitFor('the output to hold every record', async () => (await readIds(output, 2)).length >= want.filter((i) => i % 10 !== 7).length, 60_000, 500)
        .catch((err: Error) => Promise.reject(new Error(`${err.message}\n${second.stderr().slice(-2000)}`)));
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0);
      const out = (await readIds(output, 2)).sort((a, b) => a - b);
      expect(out).toEqual(want.filter((i) => i % 10 !== 7));
      const dead = (await readIds(dlq, 2)).sort((a, b) => a - b);
      expect(dead).toEqual(want.filter((i) => i % 10 === 7));
    });
  }
});

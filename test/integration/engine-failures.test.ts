/**
 * Kafka-side failures fail the job (issue 16, finding 3): a partition that
 * cannot be opened used to stay paused, with a line on stderr, while the job
 * ran on reading the other partitions. Now the job fails: exit 1, one line
 * naming the Kafka input, the partition and the cause.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { startSluice } from '../helpers/sluice-process.ts';
import { produceKeyed } from './engine-kafka-helpers.ts';

const JOB = fileURLToPath(new URL('../fixtures/jobs/failing-job.ts', import.meta.url));

describe('Kafka-side failures', () => {
  it('a partition that fails to open fails the job, naming the partition and the cause', async () => {
    const topic = await createTopic('fail-open', 2);
    await produceKeyed(topic, 100, 10);
    const p = startSluice(['run', JOB, '--brokers', kafkaBrokers().join(','), '--group-id', uniqueName('fail'), '--set', 'source=kafka', '--set', `topic=${topic}`,
      '--set', 'failIn=start', '--state-dir', tempDir(), '--output-dir', tempDir(), '--no-http']);
    // Failure bound only: before, the job never ended.
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running after 90 s'), 90_000))]);
    expect(code, p.stderr()).toBe(1);
    const failures = p.stderr().split('\n').filter((l) => l.includes('failed'));
    expect(failures, p.stderr()).toEqual([
      `sluice: kafka input on partition 1 (${topic}): opening the partition failed: operator "fragile" onStart on partition 1: boom in start`,
    ]);
  });
});

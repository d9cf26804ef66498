/**
 * Kafka-side failures fail the job (issue 16, finding 3): a partition that
 * cannot be opened used to stay paused, with a line on stderr, while the job
 * ran on reading the other partitions. Now the job fails: exit 1, one line
 * naming the Kafka input, the partition and the cause.
 */
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../../engine/runtime/job-loader.ts';
import { builtinJobs } from '../../jobs/registry.ts';
import { RunnerMetrics } from '../../metrics/runner-metrics.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { startSluice, waitFor } from '../helpers/sluice-process.ts';
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

/**
 * The Kafka consumer crashing for good fails the job too: the consumed topic is
 * deleted while the job reads it (a real, unrecoverable fault: the group can
 * never read it again). Before, kafkajs restarted the consumer without end and
 * the job ran on, reading nothing.
 */
describe('a Kafka consumer that crashes for good', () => {
  /** A topic of its own (not createTopic, whose cleanup would fail on a deleted topic), with input in it. */
  async function topicWithInput(prefix: string): Promise<string> {
    const topic = uniqueName(prefix);
    const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'sluice-test-admin' });
    try {
      await admin.ensureTopic(topic, 2, undefined, { replicationFactor: 1 });
    } finally {
      await admin.close();
    }
    await produceKeyed(topic, 100, 10);
    return topic;
  }

  async function deleteTopic(topic: string): Promise<void> {
    const admin = kafkaClient().admin();
    await admin.connect();
    try {
      await admin.deleteTopics({ topics: [topic] });
    } finally {
      await admin.disconnect();
    }
  }

  it('fails the job: FAILED, counted in sluice_job_failures_total', async () => {
    const topic = await topicWithInput('crash-metric');
    const url = resolveJobModule(JOB, builtinJobs);
    const job = await loadJob(url);
    const runner = new JobRunner({
      jobModule: url, job, settings: applySettings(job.settings, { failIn: 'none', source: 'kafka', topic }), workers: 1,
      brokers: kafkaBrokers(), groupId: uniqueName('crash'), stateDir: tempDir(), outputDir: tempDir(),
    });
    await runner.start();
    await waitFor('the job to read its input', () => runner.summary().recordsIn >= 100, 90_000);
    await deleteTopic(topic);
    // Failure bound only: before, the job never failed.
    const outcome = await Promise.race([runner.wait().then(() => 'stopped', (e: Error) => e), new Promise((r) => setTimeout(() => r('still running after 90 s'), 90_000))]);
    if (!(outcome instanceof Error)) await runner.stop().catch(() => {});
    expect(outcome).toBeInstanceOf(Error);
    expect((outcome as Error).message).toMatch(new RegExp(`^kafka consumer .*topic ${topic} no longer exists`));
    expect(runner.state).toBe('FAILED');
    const metrics = await RunnerMetrics.start(runner, { port: 0 });
    try {
      const text = await metrics.scrape();
      expect(text).toMatch(/sluice_job_failures_total\{job="failing",component="kafka",partition="\d*"\} 1/);
    } finally {
      await metrics.close();
    }
  });

  it('exits 1 with one line naming the component, the partition and the cause', async () => {
    const topic = await topicWithInput('crash');
    const out = tempDir();
    const p = startSluice(['run', JOB, '--brokers', kafkaBrokers().join(','), '--group-id', uniqueName('crash'), '--set', 'source=kafka', '--set', `topic=${topic}`,
      '--set', 'failIn=none', '--state-dir', tempDir(), '--output-dir', out, '--no-http', '--no-progress', '--checkpoint-interval', '100']);
    // Reading: output of a checkpoint is in the file sink.
    const files = (): string[] => readdirSync(out, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.jsonl'));
    await waitFor('the job to deliver what it read', () => files().length > 0, 90_000);
    await deleteTopic(topic);
    const code = await Promise.race([p.exited, new Promise((r) => setTimeout(() => r('still running after 90 s'), 90_000))]);
    if (code !== 1) p.child.kill('SIGKILL');
    expect(code, p.stderr()).toBe(1);
    const lines = p.stderr().split('\n').filter(Boolean);
    expect(lines[0]).toMatch(/^sluice: running failing/);
    // No partition to name: the consumer as a whole crashed.
    expect(lines.slice(1), p.stderr()).toEqual([
      expect.stringMatching(new RegExp(`^sluice: kafka consumer \\(group \\S+\\): consumer \\S+ crashed and will not restart: topic ${topic} no longer exists \\(deleted while the job read it\\): This server does not host this topic-partition`)),
    ]);
  });
});

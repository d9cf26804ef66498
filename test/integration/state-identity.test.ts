/**
 * A state directory belongs to one input (issue 16, finding 2): a run with
 * another identity refuses, naming both and the way out, instead of using a
 * generator's positions as Kafka offsets. And a checkpointed offset the topic
 * no longer holds fails by default, or skips forward with --offset-reset.
 */
import { describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { runSluice, startSluice } from '../helpers/sluice-process.ts';

const bound = <T>(p: Promise<T>, ms: number, what: string): Promise<T | string> =>
  Promise.race([p, new Promise<string>((r) => setTimeout(() => r(`still running after ${ms / 1000} s: ${what}`), ms))]);

describe('state identity', () => {
  it('a state directory written for the generator refuses a Kafka run, naming both and the way out', async () => {
    const state = tempDir();
    const gen = await runSluice(['run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=file', '--set', 'perPartition=200', '--state-dir', state, '--output-dir', tempDir(), '--no-http']);
    expect(gen.code, gen.stderr).toBe(0);
    const topic = await createTopic('identity', 4);
    const p = startSluice(['run', 'keyed-count', '--brokers', kafkaBrokers().join(','), '--group-id', uniqueName('identity'), '--set', `topic=${topic}`, '--set', 'sink=file',
      '--state-dir', state, '--output-dir', tempDir(), '--no-http']);
    // Failure bound only: before, the run went ahead with the generator's positions.
    const code = await bound(p.exited, 90_000, 'the Kafka run over the generator state');
    if (code !== 2) p.child.kill('SIGKILL');
    expect(code, p.stderr()).toBe(2);
    const last = p.stderr().split('\n').filter(Boolean).at(-1)!;
    expect(last).toMatch(new RegExp(`^sluice: state directory ${state} was written for job keyed-count, events=generator, 4 partitions; ` +
      `this run is job keyed-count, events=kafka topic ${topic}, Kafka cluster \\S+, 4 partitions\\. `));
    expect(last).toContain('give this run its own --state-dir, or start over with `sluice reset keyed-count`');
  });

  it('a checkpointed offset the topic no longer holds fails the run by default; --offset-reset earliest skips forward, with a warning', async () => {
    const input = await createTopic('range-in', 1);
    const output = await createTopic('range-out', 1);
    const k = kafkaClient();
    const producer = k.producer();
    await producer.connect();
    const send = (from: number, n: number) =>
      producer.send({ topic: input, messages: Array.from({ length: n }, (_, i) => ({ value: JSON.stringify({ id: from + i }) })) });
    await send(0, 100);
    const state = tempDir();
    const args = ['run', 'test/fixtures/jobs/kafka-append-job.ts', '--brokers', kafkaBrokers().join(','), '--group-id', uniqueName('range'),
      '--set', `input=${input}`, '--set', `output=${output}`, '--state-dir', state, '--no-http', '--until', 'end'];
    const first = await runSluice(args);
    expect(first.code, first.stderr).toBe(0);
    // Retention, simulated: 100 more records, then everything before offset 150 deleted.
    await send(100, 100);
    const admin = k.admin();
    await admin.connect();
    await admin.fetchTopicMetadata({ topics: [input] }); // kafkajs' deleteTopicRecords needs it loaded
    await admin.deleteTopicRecords({ topic: input, partitions: [{ partition: 0, offset: '150' }] });

    const refused = await runSluice(args);
    expect(refused.code, refused.stderr).toBe(1);
    expect(refused.stderr.split('\n').filter(Boolean).at(-1)).toBe(
      `sluice: kafka input on partition 0 (${input}:0): checkpointed offset 100 is out of range (the topic holds 150-200; retention deleted the records after it): ` +
        'skip to what is there with --offset-reset earliest (or latest), or start over with `sluice reset kafka-append`',
    );

    const skipped = await runSluice([...args, '--offset-reset', 'earliest']);
    expect(skipped.code, skipped.stderr).toBe(0);
    expect(skipped.stderr).toContain(`sluice: warning: kafka input on partition 0 (${input}:0): checkpointed offset 100 is no longer in the topic (it holds 150-200); --offset-reset earliest: reading from 150, records 100-149 are lost`);
    expect(skipped.stdout).toMatch(/records in: +50 /);
  });
});

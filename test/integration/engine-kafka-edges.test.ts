/**
 * The runtime against the real broker, at its edges: topics that are not
 * co-partitioned, poison records into the dead-letter topic, msgpack values.
 */
import { describe, expect, it } from 'vitest';
import { encode } from '@msgpack/msgpack';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../../engine/runtime/job-loader.ts';
import { defineJob, kafkaSource, discardSink } from '../../api/index.ts';
import { builtinJobs } from '../../jobs/registry.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/sluice-process.ts';
import { groupCaughtUp, readLastValues } from './engine-kafka-helpers.ts';

async function keyedCount(set: Record<string, string>, groupId: string): Promise<JobRunner> {
  const url = resolveJobModule('keyed-count', builtinJobs);
  const job = await loadJob(url);
  return new JobRunner({
    jobModule: url, job, settings: applySettings(job.settings, set), workers: 2, brokers: kafkaBrokers(),
    stateDir: tempDir(), outputDir: tempDir(), groupId, checkpointIntervalMs: 200, sessionTimeoutMs: 6000,
  });
}

async function readAll(topic: string, n: number): Promise<Array<{ key: string | null; value: unknown }>> {
  const consumer = kafkaClient().consumer({ groupId: uniqueName('reader') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: Array<{ key: string | null; value: unknown }> = [];
  await new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`only ${out.length} of ${n} records in ${topic}`)), 60_000);
    void consumer.run({
      eachMessage: async ({ message }) => {
        out.push({ key: message.key?.toString() ?? null, value: JSON.parse(message.value!.toString()) });
        if (out.length >= n) {
          clearTimeout(t);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

describe('runtime over Kafka: edges', () => {
  it('refuses to start when the source topics are not co-partitioned', async () => {
    const a = await createTopic('left', 4);
    const b = await createTopic('right', 3);
    const job = defineJob({
      name: 'mismatch',
      sources: { a: kafkaSource({ topic: a, codec: 'json' }), b: kafkaSource({ topic: b, codec: 'json' }) },
      sinks: { out: discardSink() },
      pipeline: (p) => p.source('a').union(p.source('b')).to('out'),
    });
    const r = new JobRunner({ jobModule: 'unused', job, settings: {}, brokers: kafkaBrokers(), stateDir: tempDir(), outputDir: tempDir() });
    await expect(r.start()).rejects.toMatchObject({ code: 'SLUICE_PARTITION_MISMATCH', message: expect.stringMatching(new RegExp(`${a}=4.*${b}=3`)) });
    expect(r.state).toBe('FAILED');
  });

  it('sends poison records to the dead-letter topic with their reason and offset, and keeps going', async () => {
    const input = await createTopic('events', 4);
    const output = await createTopic('counts', 4, { 'cleanup.policy': 'compact' });
    const dlq = await createTopic('dlq', 1);
    const producer = kafkaClient().producer();
    await producer.connect();
    const good = Array.from({ length: 300 }, (_, i) => ({ key: `k${i % 10}`, value: JSON.stringify({ key: `k${i % 10}`, seq: i }) }));
    const bad = [
      { key: 'k1', value: '{"key": "k1", oops' }, // not JSON
      { key: 'k2', value: '{"seq": 5}' }, // no key field
      { key: 'k3', value: '{"key": 42}' }, // wrong type
    ];
    await producer.send({ topic: input, messages: [...good.slice(0, 150), ...bad, ...good.slice(150)] });
    await producer.disconnect();
    const group = uniqueName('dlq-group');
    const r = await keyedCount({ topic: input, outTopic: output, dlqTopic: dlq }, group);
    await r.start();
    await waitFor('all input consumed', () => groupCaughtUp(group, input), 60_000, 300);
    const s = await r.stop();
    expect(s.deadLetters).toEqual({ decode_error: 1, validation_failed: 2 });
    const dead = (await readAll(dlq, 3)).map((d) => d.value as { reason: string; source: string; offset: number; error: { message: string } });
    expect(dead.map((d) => d.reason).sort()).toEqual(['decode_error', 'validation_failed', 'validation_failed']);
    expect(dead.every((d) => d.source === 'events' && Number.isInteger(d.offset))).toBe(true);
    expect(dead.find((d) => d.reason === 'validation_failed')?.error.message).toContain('missing string field "key"');
    const counts = await readLastValues(output, 10);
    expect([...counts.values()].reduce((n, v) => n + v.count, 0)).toBe(300);
  });

  it('reads msgpack values', async () => {
    const input = await createTopic('mp', 2);
    const output = await createTopic('mp-counts', 2, { 'cleanup.policy': 'compact' });
    const producer = kafkaClient().producer();
    await producer.connect();
    await producer.send({ topic: input, messages: Array.from({ length: 200 }, (_, i) => ({ key: `m${i % 4}`, value: Buffer.from(encode({ key: `m${i % 4}`, seq: i })) })) });
    await producer.disconnect();
    const group = uniqueName('mp-group');
    const r = await keyedCount({ topic: input, outTopic: output, codec: 'msgpack', partitions: '2' }, group);
    await r.start();
    await waitFor('all input consumed', () => groupCaughtUp(group, input), 60_000, 300);
    await r.stop();
    const counts = await readLastValues(output, 4);
    expect(Object.fromEntries([...counts].map(([k, v]) => [k, v.count]))).toEqual({ m0: 50, m1: 50, m2: 50, m3: 50 });
  });

  it('under backpressure the partitions pause and consumer lag still shows what waits in Kafka', async () => {
    const topic = await createTopic('stall', 2);
    const flag = `${tempDir()}/go`;
    const url = new URL('../fixtures/jobs/stalling-kafka-job.ts', import.meta.url).href;
    const job = await loadJob(url);
    const r = new JobRunner({
      jobModule: url, job, settings: applySettings(job.settings, { topic, flag }), workers: 2, brokers: kafkaBrokers(),
      stateDir: tempDir(), outputDir: tempDir(), groupId: uniqueName('stall'), checkpointIntervalMs: 100, sessionTimeoutMs: 6000,
    });
    await r.start();
    const totalLag = (): number => [...r.lag().values()].reduce((a, b) => a + b, 0);
    const paused = (): boolean => r.inputStats()!.partitions.some((p) => p.pausedMs > 0);
    // The sink never acknowledges: epochs pile up undelivered while input keeps coming,
    // the actors report backpressure and their partitions pause. Input flows until then.
    const producer = kafkaClient().producer();
    await producer.connect();
    let produced = 0;
    const deadline = Date.now() + 60_000;
    while (!paused() && Date.now() < deadline) {
      await producer.send({ topic, messages: Array.from({ length: 1000 }, (_, j) => ({ key: `k${j}`, value: JSON.stringify({ i: produced + j }) })) });
      produced += 1000;
      await new Promise((res) => setTimeout(res, 50));
    }
    await producer.disconnect();
    expect(paused()).toBe(true);
    // Nothing is delivered, so lag shows every record produced, paused partitions included.
    await waitFor('lag to show every waiting record', () => totalLag() === produced, 30_000, 250);
    // Release the sink: everything drains and lag returns to zero.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(flag, '');
    await waitFor('lag back to zero', () => totalLag() === 0 && r.summary().recordsIn === produced, 60_000, 250);
    await r.stop();
  });
});

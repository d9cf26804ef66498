/**
 * Input alignment over Kafka (engine/runtime/kafka-alignment.ts): a
 * partition's two inputs whose record times advance at different rates per
 * byte are fed to the actor within the alignment bound, plus what one fetch
 * brings; without alignment the consumer's byte-fair fetches let them drift
 * apart by most of the backlog. Every record is processed once either way.
 *
 * Input a: 6,000 records of ~1 KB, 1 s apart. Input b: 24,000 records of
 * ~1 KB, 0.25 s apart: the same 6,000 s in four times the bytes.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { applySettings, loadJob } from '../../engine/runtime/job-loader.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { waitFor } from '../helpers/sluice-process.ts';
import type { Rec } from '../fixtures/jobs/two-inputs-job.ts';

const T0 = Date.UTC(2026, 0, 1);
const A = 6_000;
const B = 24_000;
const PAD = 'x'.repeat(950);
/** The engine's fetch size per partition (engine/kafka/consumer.ts). */
const FETCH_BYTES = 1 << 20;
const ALIGN_MS = 10_000;

async function produce(topic: string, src: 'a' | 'b', n: number, stepMs: number): Promise<void> {
  const producer = kafkaClient().producer();
  await producer.connect();
  // 500 records (~0.5 MB) a send: well under the broker's 1 MiB message limit.
  for (let i = 0; i < n; i += 500) {
    const messages = Array.from({ length: Math.min(500, n - i) }, (_, j) => {
      const r: Rec = { src, seq: i + j, ts: T0 + (i + j) * stepMs, pad: PAD };
      return { key: null, value: JSON.stringify(r), timestamp: String(r.ts) };
    });
    await producer.send({ topic, messages });
  }
  await producer.disconnect();
}

/** Runs the job to the end of both topics; returns the records in the order the actor processed them. */
async function run(a: string, b: string, inputAlignmentMs: number): Promise<{ order: Array<Pick<Rec, 'src' | 'seq' | 'ts'>>; holds: number }> {
  const url = new URL('../fixtures/jobs/two-inputs-job.ts', import.meta.url).href;
  const job = await loadJob(url);
  const out = tempDir();
  const r = new JobRunner({
    jobModule: url, job, settings: applySettings(job.settings, { a, b, dir: out }), workers: 1, brokers: kafkaBrokers(), stateDir: tempDir(), outputDir: tempDir(),
    groupId: uniqueName('align'), checkpointIntervalMs: 200, sessionTimeoutMs: 6000, inputAlignmentMs,
  });
  await r.start();
  await waitFor('both topics consumed', () => r.summary().recordsIn === A + B, 120_000, 100);
  const holds = r.inputStats()!.alignmentHolds;
  await r.stop();
  const dir = join(out, 'part-0');
  const order = readdirSync(dir)
    .filter((f) => f.endsWith('.jsonl'))
    .sort()
    .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Rec));
  return { order, holds };
}

/** The widest gap in record time between the two inputs as processed, while both had started and neither had ended. */
function maxDrift(order: Array<Pick<Rec, 'src' | 'ts' | 'seq'>>): number {
  let lastA: number | undefined;
  let lastB: number | undefined;
  let drift = 0;
  for (const r of order) {
    if (r.src === 'a') lastA = r.ts;
    else lastB = r.ts;
    if (r.src === 'a' && r.seq === A - 1) break;
    if (r.src === 'b' && r.seq === B - 1) break;
    if (lastA !== undefined && lastB !== undefined) drift = Math.max(drift, Math.abs(lastA - lastB));
  }
  return drift;
}

describe('input alignment over Kafka', () => {
  it('feeds two inputs within the bound plus what one fetch brings; unaligned they drift apart', async () => {
    const a = await createTopic('align-a', 1);
    const b = await createTopic('align-b', 1);
    await produce(a, 'a', A, 1000);
    await produce(b, 'b', B, 250);
    const perRecord = JSON.stringify({ src: 'a', seq: 0, ts: T0, pad: PAD }).length;
    // Input a's record time covered by one fetch: its records are 1 s apart.
    const fetchSpanA = Math.ceil(FETCH_BYTES / perRecord) * 1000;

    const aligned = await run(a, b, ALIGN_MS);
    const unaligned = await run(a, b, 0);
    for (const r of [aligned, unaligned]) {
      // Every record once, each input in its own order.
      expect(r.order).toHaveLength(A + B);
      expect(r.order.filter((x) => x.src === 'a').map((x) => x.seq)).toEqual(Array.from({ length: A }, (_, i) => i));
      expect(r.order.filter((x) => x.src === 'b').map((x) => x.seq)).toEqual(Array.from({ length: B }, (_, i) => i));
    }
    const d1 = maxDrift(aligned.order);
    const d0 = maxDrift(unaligned.order);
    console.log(`[align] max drift aligned ${d1} ms (${aligned.holds} holds), unaligned ${d0} ms; a fetch of a spans ${fetchSpanA} ms`);
    expect(aligned.holds).toBeGreaterThan(0);
    expect(unaligned.holds).toBe(0);
    // Held once ahead by more than the bound: at most the batch that crossed it and the one already fetched.
    expect(d1).toBeLessThanOrEqual(ALIGN_MS + 2 * fetchSpanA);
    // The same data unaligned drifts further than that bound: the assertion above can fail.
    expect(d0).toBeGreaterThan(ALIGN_MS + 2 * fetchSpanA);
  }, 400_000);
});

/**
 * `sluice run <job> --until end`: a bounded run of a Kafka job. It reads
 * every input up to the end offsets taken at its start, then advances the
 * watermark to the end, so every window fires, is delivered and checkpointed,
 * and the process exits 0. `sluice status` shows each partition's watermark
 * and its open windows and timers, before (windows waiting for event time)
 * and after (the end: nothing open).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { runSluice, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { groupCaughtUp } from './engine-kafka-helpers.ts';

const JOB = 'test/fixtures/jobs/windowed-count-job.ts';
const MINUTE = 60_000;

function rows(out: string): Array<{ key: string; start: number; n: number }> {
  const dir = join(out, 'windows');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((part) =>
    readdirSync(join(dir, part)).flatMap((f) => readFileSync(join(dir, part, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { key: string; start: number; n: number })),
  );
}

/** The status table's rows: partition -> watermark, windows, timers (0 for "-": a partition that has not checkpointed yet). */
function statusColumns(stdout: string): Map<number, { watermark: string; windows: number; timers: number }> {
  const out = new Map<number, { watermark: string; windows: number; timers: number }>();
  for (const m of stdout.matchAll(/^ {2}p(\d+) .*?watermark (\S+) +windows (\d+|-) +timers (\d+|-)/gm)) {
    out.set(Number(m[1]), { watermark: m[2], windows: Number(m[3].replace('-', '0')), timers: Number(m[4].replace('-', '0')) });
  }
  return out;
}

describe('sluice run --until end', () => {
  it('reads to the end offsets taken at start, fires every window, delivers, exits 0; status shows watermarks, open windows and timers', async () => {
    const topic = await createTopic('bounded', 4);
    const group = uniqueName('bounded');
    const state = tempDir();
    const out = tempDir();
    // 5 keys x 3 minutes x 4 records, in event-time order.
    const t0 = Math.floor(Date.UTC(2024, 0, 1, 12, 0, 0) / MINUTE) * MINUTE;
    const producer = kafkaClient().producer();
    await producer.connect();
    const messages = [];
    for (let m = 0; m < 3; m++) for (let i = 0; i < 4; i++) for (let k = 0; k < 5; k++) messages.push({ key: `k${k}`, value: JSON.stringify({ key: `k${k}`, t: t0 + m * MINUTE + i * 1000 }) });
    await producer.send({ topic, messages });
    const common = [JOB, '--brokers', kafkaBrokers().join(','), '--group-id', group, '--state-dir', state, '--set', `topic=${topic}`];

    // A continuous run: it reads everything, but the last minute's windows wait for event time to pass them.
    const p = startSluice(['run', ...common, '--output-dir', out, '--checkpoint-interval', '200']);
    await waitFor('the group to catch up', () => groupCaughtUp(group, topic), 90_000, 300);
    await waitFor('the first two minutes delivered', () => rows(out).length === 10, 60_000, 200);
    let st = await runSluice(['status', ...common]);
    expect(st.code, st.stderr).toBe(0);
    let cols = statusColumns(st.stdout);
    expect([...cols.keys()].sort(), st.stdout).toEqual([0, 1, 2, 3]);
    const withData = [...cols.values()].filter((c) => c.watermark !== '-');
    expect(withData.length).toBeGreaterThan(0);
    // Each partition with records has its watermark at its newest record (no out-of-orderness allowed).
    for (const c of withData) expect(Date.parse(c.watermark)).toBe(t0 + 2 * MINUTE + 3000);
    // The third minute of each key is still open: one window, one timer each.
    expect([...cols.values()].reduce((a, c) => a + c.windows, 0), st.stdout).toBe(5);
    expect([...cols.values()].reduce((a, c) => a + c.timers, 0), st.stdout).toBe(5);
    p.child.kill('SIGTERM');
    expect(await p.exited, p.stderr()).toBe(0);
    expect(rows(out)).toHaveLength(10);

    // The bounded run: nothing new to read, but the last minute's windows close now.
    const bounded = startSluice(['run', ...common, '--output-dir', out, '--until', 'end']);
    await waitFor('the bounded run to start', () => /sluice: running windowed-count/.test(bounded.stderr()), 60_000, 100);
    expect(await bounded.exited, bounded.stderr()).toBe(0);
    expect(bounded.stderr()).toMatch(/until end: read to the end offsets of .*; every window closed/);
    const final = rows(out);
    expect(final).toHaveLength(15);
    for (let k = 0; k < 5; k++) for (let m = 0; m < 3; m++) expect(final.filter((r) => r.key === `k${k}` && r.start === t0 + m * MINUTE).map((r) => r.n)).toEqual([4]);

    st = await runSluice(['status', ...common]);
    expect(st.code, st.stderr).toBe(0);
    cols = statusColumns(st.stdout);
    expect([...cols.values()], st.stdout).toEqual([0, 1, 2, 3].map(() => ({ watermark: 'end', windows: 0, timers: 0 })));

    // A second bounded run has nothing to read: it ends at once, with nothing new.
    await producer.send({ topic, messages: [{ key: 'k0', value: JSON.stringify({ key: 'k0', t: t0 + 10 * MINUTE }) }] });
    await producer.disconnect();
    const again = await runSluice(['run', ...common, '--output-dir', out, '--until', 'end']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/records in:\s+1\b/);
    expect(rows(out)).toHaveLength(16);
  });

  it('is refused for a job without Kafka input, a job with repartition stages, and values other than "end"', async () => {
    const bad = await runSluice(['run', 'keyed-count', '--set', 'source=generator', '--until', 'later', '--state-dir', tempDir()]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--until takes "end"');
    const embedded = await runSluice(['run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=discard', '--until', 'end', '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(embedded.code).toBe(2);
    expect(embedded.stderr).toContain('--until end reads Kafka inputs to their end');
    // A repartition topic is written by the run itself: its end offsets at start are not its end.
    const staged = await runSluice(['run', 'orders-payments', '--set', 'copartitioned=false', '--until', 'end', '--brokers', kafkaBrokers().join(','), '--state-dir', tempDir()]);
    expect(staged.code, staged.stderr).toBe(2);
    expect(staged.stderr).toContain('--until end does not support jobs with repartition stages yet');
  });
});

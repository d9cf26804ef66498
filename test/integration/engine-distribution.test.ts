/**
 * State follows its partition to another process, as to another machine:
 * every process has its own state directory, so a partition that moves is
 * rebuilt from its changelog topic up to the last checkpoint marker, and its
 * input resumes from the positions in that marker. The sink (an upsert topic
 * of counts) must end exactly right after each disruption.
 */
import { rmSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { runSluice, startSluice, waitFor, type SluiceProcess } from '../helpers/sluice-process.ts';
import { committedTotal, groupCaughtUp, produceKeyed, readLastValues } from './engine-kafka-helpers.ts';

const KEYS = 300;

async function setup(records: number, rate: number) {
  const input = await createTopic('events', 4);
  const output = await createTopic('counts', 4, { 'cleanup.policy': 'compact' });
  const group = uniqueName('dist');
  const producing = produceKeyed(input, records, KEYS, 0, rate);
  const start = (stateDir: string): SluiceProcess =>
    startSluice([
      'run', 'keyed-count', '--brokers', kafkaBrokers().join(','), '--workers', '1', '--state-dir', stateDir,
      '--output-dir', tempDir(), '--group-id', group, '--checkpoint-interval', '250', '--session-timeout', '6000',
      '--set', `topic=${input}`, '--set', `outTopic=${output}`,
    ]);
  const progress = async (what: string, atLeast: number): Promise<void> => {
    const from = await committedTotal(group, input);
    await waitFor(what, async () => (await committedTotal(group, input)) >= from + atLeast, 120_000, 200);
  };
  const finish = async (alive: SluiceProcess[]): Promise<void> => {
    const expected = await producing;
    await waitFor('the group to catch up', () => groupCaughtUp(group, input), 180_000, 500);
    for (const p of alive) p.child.kill('SIGTERM');
    for (const p of alive) expect(await p.exited, p.stderr()).toBe(0);
    const got = await readLastValues(output, expected.size);
    const wrong = [...expected].filter(([key, n]) => got.get(key)?.count !== n);
    expect(wrong.slice(0, 5).map(([k, n]) => [k, n, got.get(k)?.count]), `${wrong.length} wrong`).toEqual([]);
    expect(got.size).toBe(expected.size);
  };
  const status = () =>
    runSluice(['status', 'keyed-count', '--brokers', kafkaBrokers().join(','), '--group-id', group, '--set', `topic=${input}`, '--set', `outTopic=${output}`]);
  return { start, progress, finish, status };
}

const restored = (p: SluiceProcess): number => (p.stderr().match(/ restored \d+ keys/g) ?? []).length;

describe('state follows its partition', () => {
  it('a SIGKILLed process: the others restore its partitions from the changelog and finish exactly', async () => {
    const t = await setup(120_000, 5_000);
    const [a, b, c] = [t.start(tempDir()), t.start(tempDir()), t.start(tempDir())];
    await t.progress('three processes processing', 20_000);
    b.child.kill('SIGKILL');
    expect(await b.exited, b.stderr()).toBe('SIGKILL');
    await t.progress('progress after the kill', 10_000);
    await t.finish([a, c]);
    // b's partitions went to a or c, which had no local state for them: rebuilt from the changelog.
    expect(restored(a) + restored(c)).toBeGreaterThan(0);
  });

  it('a process added mid-run, then one removed gracefully: exact', async () => {
    const t = await setup(120_000, 5_000);
    const a = t.start(tempDir());
    const b = t.start(tempDir());
    await t.progress('two processes processing', 15_000);
    const c = t.start(tempDir());
    await t.progress('three processes processing', 15_000);
    a.child.kill('SIGTERM');
    expect(await a.exited, a.stderr()).toBe(0);
    await t.finish([b, c]);
    expect(restored(c)).toBeGreaterThan(0); // the newcomer rebuilt what it took over
  });

  it('a state directory wiped while its process was down: it restores, `sluice status` shows the restores, and the result is exact', async () => {
    // 40 s of input: the step after the wipe needs input still flowing after two process starts and a
    // restore, and a thread's first producer loads its Kafka client (~0.5 s of CPU) at start.
    const t = await setup(200_000, 5_000);
    const dir = tempDir();
    const a = t.start(dir);
    const b = t.start(tempDir());
    await t.progress('processing', 20_000);
    a.child.kill('SIGKILL');
    await a.exited;
    await t.progress('processing with A down', 5_000);
    rmSync(dir, { recursive: true, force: true });
    // A comes back with nothing: the partitions it gets back are rebuilt from their changelogs.
    const again = t.start(dir);
    await waitFor('A to restore its partitions', () => restored(again) >= 1, 120_000, 200);
    await t.progress('processing after the wipe', 10_000);
    const st = await t.status();
    expect(st.code, st.stderr).toBe(0);
    const restoredLines = st.stdout.split('\n').filter((l) => / restored \d+ keys in [\d.]+ s, \d+ s ago, on /.test(l));
    expect(restoredLines.length, st.stdout).toBeGreaterThanOrEqual(restored(again));
    await t.finish([again, b]);
  });
});

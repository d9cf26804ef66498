/**
 * Scaling out through the consumer group: a second process of the same job
 * joins mid-run, takes over part of the partitions, and later leaves; the
 * first takes them back. Both use one state directory, as two processes on
 * one machine would: partitions hand over through a lease in LMDB, each
 * checkpointed by its old owner before the new one opens it. Totals stay
 * exact.
 */
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { createTopic, kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { startSluice, waitFor } from '../helpers/sluice-process.ts';
import { committedTotal, groupCaughtUp, produceKeyed, readLastValues } from './engine-kafka-helpers.ts';

const RECORDS = 150_000;
const KEYS = 400;

async function members(group: string): Promise<number> {
  const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'test-admin' });
  try {
    const d = await admin.describeGroup(group);
    return d.state === 'Stable' ? d.members.length : -1;
  } finally {
    await admin.close();
  }
}

describe('a second process joins and leaves', () => {
  it('keeps totals exact while partitions move between processes', async () => {
    const input = await createTopic('events', 4);
    const output = await createTopic('counts', 4, { 'cleanup.policy': 'compact' });
    const group = uniqueName('scale-group');
    const stateDir = tempDir();
    const producing = produceKeyed(input, RECORDS, KEYS, 0, 5_000);
    const args = [
      'run', 'keyed-count', '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', stateDir,
      '--output-dir', tempDir(), '--group-id', group, '--checkpoint-interval', '200', '--session-timeout', '6000',
      '--set', `topic=${input}`, '--set', `outTopic=${output}`,
    ];
    const a = startSluice(args);
    await waitFor('process A to make progress', async () => (await committedTotal(group, input)) >= 10_000, 90_000, 200);

    const b = startSluice(args);
    await waitFor('both processes in a stable group', async () => (await members(group)) === 2, 90_000, 250);
    const atJoin = await committedTotal(group, input);
    await waitFor('progress with two processes', async () => (await committedTotal(group, input)) >= atJoin + 20_000, 90_000, 200);

    b.child.kill('SIGTERM');
    expect(await b.exited, b.stderr()).toBe(0);
    const bIn = Number(/records in:\s+(\d+)/.exec(b.stdout())?.[1] ?? -1);
    expect(bIn, b.stdout()).toBeGreaterThan(0); // B really processed part of the input

    const expected = await producing;
    await waitFor('process A to take everything back and catch up', () => groupCaughtUp(group, input), 120_000, 500);
    a.child.kill('SIGTERM');
    expect(await a.exited, a.stderr()).toBe(0);
    const aIn = Number(/records in:\s+(\d+)/.exec(a.stdout())?.[1] ?? -1);
    expect(aIn).toBeGreaterThan(0);

    const got = await readLastValues(output, expected.size);
    const wrong = [...expected].filter(([key, n]) => got.get(key)?.count !== n);
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(got.size).toBe(expected.size);
  });
});

/** `sluice status` and `sluice reset` against a running, then stopped, Kafka job. */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { createTopic, kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { runSluice, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { committedTotal, produceKeyed } from './engine-kafka-helpers.ts';

describe('sluice status and reset', () => {
  it('shows owners, lag and checkpoints; reset refuses while running, then deletes everything', async () => {
    const input = await createTopic('events', 4);
    const output = await createTopic('counts', 4, { 'cleanup.policy': 'compact' });
    const group = uniqueName('ops');
    const stateDir = tempDir();
    await produceKeyed(input, 20_000, 50);
    const common = ['keyed-count', '--brokers', kafkaBrokers().join(','), '--group-id', group, '--state-dir', stateDir, '--set', `topic=${input}`, '--set', `outTopic=${output}`];
    const p = startSluice(['run', ...common, '--workers', '1']);
    await waitFor('progress', async () => (await committedTotal(group, input)) >= 20_000, 90_000, 300);

    const st = await runSluice(['status', ...common]);
    expect(st.code, st.stderr).toBe(0);
    expect(st.stdout, st.stdout).toMatch(new RegExp(`group ${group} is Stable, 1 process`));
    expect(st.stdout, st.stdout).toMatch(new RegExp(`sluice-keyed-count-.*-${p.child.pid}-consumer on .*: p0 p1 p2 p3`));
    for (const part of ['p0', 'p1', 'p2', 'p3']) expect(st.stdout).toMatch(new RegExp(`  ${part} +sluice-keyed-count-\\S+ +0 +epoch \\d+, [\\d.]+ s ago`));

    const refused = await runSluice(['reset', ...common, '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('running process');

    p.child.kill('SIGTERM');
    expect(await p.exited).toBe(0);
    const unconfirmed = await runSluice(['reset', ...common]);
    expect(unconfirmed.code).toBe(2);
    expect(unconfirmed.stderr).toContain('--yes');
    expect(existsSync(stateDir)).toBe(true);

    const done = await runSluice(['reset', ...common, '--yes']);
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain(`topic ${group}-checkpoints`);
    expect(done.stdout).toContain(`topic ${group}-count-changelog`);
    expect(existsSync(stateDir)).toBe(false);
    const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 't' });
    const topics = await admin.listTopics();
    const committed = await admin.fetchCommittedOffsets(group, input);
    await admin.close();
    expect(topics.filter((x) => x.startsWith(`${group}-`))).toEqual([]);
    expect(committed.size).toBe(0);
  });
});

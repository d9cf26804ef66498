/**
 * The exactly-once guarantee end to end, against the real broker: the keyed
 * counting job runs as a real `sluice` process with 2 workers over 200,000
 * records, is killed with SIGKILL at 3 random moments and restarted each
 * time, while the input is still being produced. Its sink is an upsert topic (the last value per key is the count):
 * every count must be exact, none lost, none doubled.
 */
import { describe, expect, it } from 'vitest';
import { createTopic, kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { sleep, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { committedTotal, groupCaughtUp, produceKeyed, readLastValues } from './engine-kafka-helpers.ts';

const RECORDS = 200_000;
const KEYS = 500;

describe('keyed-count over Kafka, killed and restarted', () => {
  it('has exact counts after 3 SIGKILLs', async () => {
    const input = await createTopic('events', 4);
    const output = await createTopic('counts', 4, { 'cleanup.policy': 'compact' });
    const group = uniqueName('kill-group');
    const stateDir = tempDir();
    // Input keeps arriving while the job is killed and restarted (about 40 s at this rate), so every
    // kill lands while records are being processed, checkpointed and delivered.
    const producing = produceKeyed(input, RECORDS, KEYS, 0, 5_000);
    const args = [
      'run', 'keyed-count', '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', stateDir,
      '--output-dir', tempDir(), '--group-id', group, '--checkpoint-interval', '200', '--session-timeout', '6000', '--no-progress',
      '--set', `topic=${input}`, '--set', `outTopic=${output}`,
    ];
    const kills: string[] = [];
    for (let k = 0; k < 3; k++) {
      const p = startSluice(args);
      // Kill only once this process is demonstrably processing and delivering (its group commits
      // move), then at a random moment within the next second: mid-batch, mid-checkpoint or
      // mid-delivery, wherever it happens to be.
      const before = await committedTotal(group, input);
      await waitFor(`process ${k} to make progress`, async () => (await committedTotal(group, input)) >= before + 5_000, 90_000, 100);
      const at = Math.floor(Math.random() * 1000);
      await sleep(at);
      kills.push(`#${k} at +${at} ms after offset ${before}`);
      p.child.kill('SIGKILL');
      expect(await p.exited).toBe('SIGKILL');
    }
    const expected = await producing;
    const last = startSluice(args);
    await waitFor('the job to start', () => last.stderr().includes('sluice: running'), 60_000);
    await waitFor('the group to commit every input offset', () => groupCaughtUp(group, input), 120_000, 500);
    last.child.kill('SIGTERM');
    expect(await last.exited, last.stderr()).toBe(0);

    const got = await readLastValues(output, expected.size);
    expect(got.size).toBe(expected.size);
    const wrong = [...expected].filter(([key, n]) => got.get(key)?.count !== n);
    expect(wrong.slice(0, 5), `kills: ${kills.join('; ')}`).toEqual([]);
  });
});

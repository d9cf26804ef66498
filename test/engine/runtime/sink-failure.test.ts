/**
 * The one delivery policy, end to end through the real CLI: a sink that
 * keeps failing is retried with every retry logged with its cause, turns
 * /healthz to 503 naming the partition after the stall time, and fails the
 * job (exit 1) with one line once the retry budget is spent; a sink error
 * marked not retryable fails the job at once.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runSluice, startSluice, waitFor } from '../../helpers/sluice-process.ts';
import { tempDir } from '../../helpers/temp.ts';

const JOB = fileURLToPath(new URL('./fixtures/failing-sink-job.ts', import.meta.url));

function dirs(): string[] {
  return ['--state-dir', tempDir(), '--output-dir', tempDir(), '--checkpoint-interval', '100', '--workers', '2'];
}

/** The lines a run printed on stderr, without the empty last one. */
const lines = (stderr: string): string[] => stderr.split('\n').filter((l) => l !== '');

describe('sink failures', () => {
  it('a sink error marked not retryable fails the job at once, with one line naming the sink, the partition and the cause', async () => {
    const r = await runSluice(['run', JOB, ...dirs(), '--set', 'fail=fatal', '--set', 'failPartition=1']);
    expect(r.code).toBe(1);
    const last = lines(r.stderr).at(-1)!;
    expect(last).toMatch(/^sluice: sink "ledger" of partition 1 failed for epochs? [\d–]+, not retryable: ledger sink: account 42 is closed$/);
    // No retry: the policy gave up at the first attempt.
    expect(r.stderr).not.toMatch(/retry \d+ in/);
  });

  it('a sink that keeps failing: retries logged with the cause, /healthz 503 naming the partition, then exit 1 with one line', async () => {
    const p = startSluice([
      'run', JOB, ...dirs(),
      '--set', 'fail=retryable', '--set', 'failPartition=1', '--set', 'perPartition=0', '--set', 'ratePerSec=200',
      '--sink-retry-for', '10000', '--sink-backoff-max', '500', '--stall-after', '500', '--metrics-port', '0',
    ]);
    let url = '';
    await waitFor('the metrics address', () => {
      const m = /metrics at (http:\/\/[^/]+)\/metrics/.exec(p.stderr());
      if (m) url = m[1];
      return m !== null;
    });
    let health: { ready: boolean; stalled: Array<{ partition: number; sink: string; cause: string; failures: number }> } | undefined;
    let status = 0;
    await waitFor('/healthz to report the stalled partition', async () => {
      const res = await fetch(`${url}/healthz`).catch(() => undefined);
      if (!res) return false;
      status = res.status;
      health = (await res.json()) as typeof health;
      return status === 503 && (health?.stalled.length ?? 0) > 0;
    }, 60_000, 100);
    expect(status).toBe(503);
    expect(health!.ready).toBe(false);
    // Only partition 1's sink fails; partition 0 delivers.
    expect(health!.stalled.map((s) => [s.partition, s.sink])).toEqual([[1, 'ledger']]);
    expect(health!.stalled[0].cause).toBe('connect ECONNREFUSED 127.0.0.1:9');
    const code = await p.exited;
    expect(code).toBe(1);
    const all = lines(p.stderr());
    const retries = all.filter((l) => l.startsWith('sluice: sink "ledger" of partition 1 failed for') && /retry \d+ in/.test(l));
    expect(retries.length).toBeGreaterThan(0);
    for (const l of retries) expect(l).toContain('(connect ECONNREFUSED 127.0.0.1:9)');
    // Rate-limited: at most one line per 5 s of failing (plus the first), though the sink failed far more often.
    expect(retries.length).toBeLessThanOrEqual(4);
    expect(all.at(-1)).toMatch(
      /^sluice: sink "ledger" of partition 1 failed for epochs? [\d–]+, gave up after \d+ attempts in 1\d\.\d s \(retry budget 10000 ms, --sink-retry-for\): connect ECONNREFUSED 127\.0\.0\.1:9$/,
    );
  });
});

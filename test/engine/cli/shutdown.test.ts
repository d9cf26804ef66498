/**
 * The second SIGINT (and the drain timeout) end the process within 2 s, every
 * time, whatever the workers are doing in LMDB at that moment; the counts stay exact across
 * the resulting restarts. Issue 16, finding 1: before, in some tries two worker
 * threads deadlocked inside lmdb during the exit and only SIGKILL ended it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.ts';
import { sleep, startSluice, waitFor, type SluiceProcess } from '../../helpers/sluice-process.ts';

const JOB = fileURLToPath(new URL('../../fixtures/jobs/counting-job.ts', import.meta.url));
const TRIES = Number(process.env.SHUTDOWN_TRIES ?? 50);
/** How a cut-short run ends: exit code 4, or on a Node without process.execve the SIGKILL it sends itself (exit-now.ts). */
const CUT: number | string = typeof (process as { execve?: unknown }).execve === 'function' ? 4 : 'SIGKILL';
/** The requirement: the process is gone within 2 s of the second signal (or of the drain timeout). */
const EXIT_BOUND_MS = Number(process.env.SHUTDOWN_EXIT_BOUND_MS ?? 2_000);

/**
 * The exit code, or 'hung' when the process is still there after the bound
 * (then it is SIGKILLed), and how long after `since` the exit came.
 */
async function exitWithin(p: SluiceProcess, ms: number, since: number): Promise<{ code: number | string; ms: number }> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<string>((r) => (timer = setTimeout(() => r('hung'), ms)));
  const code = await Promise.race([p.exited, hung]);
  const took = performance.now() - since;
  clearTimeout(timer);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    await p.exited;
  }
  return { code, ms: took };
}

function maxCounts(out: string): Map<string, number> {
  const last = new Map<string, number>();
  const root = join(out, 'counts');
  for (const part of readdirSync(root)) {
    for (const f of readdirSync(join(root, part)).filter((x) => x.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(root, part, f), 'utf8').split('\n')) {
        if (!line) continue;
        const v = JSON.parse(line) as { key: string; count: number };
        last.set(v.key, Math.max(last.get(v.key) ?? 0, v.count));
      }
    }
  }
  return last;
}

describe('shutdown', () => {
  it(`a second SIGINT at a random moment exits at once, ${TRIES} times; the counts stay exact across the restarts`, async () => {
    const state = tempDir();
    const out = tempDir();
    const common = ['--state-dir', state, '--output-dir', out, '--workers', '2', '--checkpoint-interval', '20'];
    const outcomes: Array<number | string> = [];
    const took: number[] = [];
    const odd: string[] = [];
    for (let i = 0; i < TRIES; i++) {
      const p = startSluice(['run', JOB, ...common]);
      await waitFor('the job to start', () => /sluice: running counting/.test(p.stderr()), 60_000, 20);
      // Random inputs: when the first signal comes (workers starting, restoring, or
      // checkpointing), and how far into the drain the second one lands.
      await sleep(Math.random() * 1_500);
      p.child.kill('SIGINT');
      // A second signal exists only once the first was taken: two SIGINTs sent before the
      // process ran at all (a loaded machine) merge into one pending signal, and the run
      // just drains. So the second goes out after the first one's line (or the exit: a
      // signal before the handlers were installed ends the process as it ends any).
      let exited = false;
      void p.exited.then(() => (exited = true));
      await waitFor('the first SIGINT to be taken', () => exited || p.stderr().includes('SIGINT: draining'), 60_000, 5);
      await sleep(Math.random() * 300);
      let handled = NaN;
      p.child.stderr!.on('data', (d: Buffer) => {
        if (Number.isNaN(handled) && d.toString().includes('exiting without a final checkpoint')) handled = performance.now();
      });
      const second = performance.now();
      p.child.kill('SIGINT');
      const { code, ms } = await exitWithin(p, EXIT_BOUND_MS, second);
      outcomes.push(code);
      took.push(ms);
      // What an unexpected ending said, for the assertion's message.
      if (code !== 0 && code !== CUT && code !== 'SIGINT' && code !== 'hung') odd.push(`try ${i}, exit ${code}: ${p.stderr().split('\n').slice(-8).join(' | ')}`);
      if (process.env.SHUTDOWN_TRACE) process.stderr.write(`try ${i}: exit ${code} after ${ms.toFixed(0)} ms, handler line after ${(handled - second).toFixed(0)} ms\n`);
    }
    // The figure the issue asks about (signal to exit), for the record; the bound above is the assertion.
    process.stderr.write(`shutdown: second SIGINT to exit, ${TRIES} tries: max ${Math.max(...took).toFixed(0)} ms, median ${[...took].sort((a, b) => a - b)[took.length >> 1].toFixed(0)} ms\n`);
    const hung = outcomes.filter((c) => c === 'hung').length;
    expect(hung, `hung ${hung} of ${TRIES} times: ${JSON.stringify(outcomes)}`).toBe(0);
    // Either the drain was cut short (4, see CUT), or it had finished before the second signal:
    // then the process was exiting normally (0), or the signal found no handler left
    // and ended it as it ends any process ('SIGINT').
    expect(outcomes.filter((c) => c !== 0 && c !== CUT && c !== 'SIGINT'), `${JSON.stringify(outcomes)}\n${odd.join('\n')}`).toEqual([]);

    // Exactly once across all those restarts: a last run reads to a fixed end, and
    // each key's final count is the number of records generated for it.
    const perPartition = 400_000;
    const fin = startSluice(['run', JOB, ...common, '--set', `count=${perPartition}`, '--set', 'rate=0']);
    expect(await fin.exited, fin.stderr()).toBe(0);
    const counts = maxCounts(out);
    expect(counts.size).toBe(64);
    expect([...counts.values()].reduce((a, b) => a + b, 0)).toBe(4 * perPartition);
  }, 900_000);

  it('the drain timeout exits with code 4 at once, even with the workers busy', async () => {
    const state = tempDir();
    const out = tempDir();
    const p = startSluice(['run', JOB, '--state-dir', state, '--output-dir', out, '--workers', '2', '--checkpoint-interval', '20', '--shutdown-timeout', '1']);
    await waitFor('the job to start', () => /sluice: running counting/.test(p.stderr()), 60_000, 20);
    await sleep(Math.random() * 1_000);
    const signalAt = performance.now();
    p.child.kill('SIGTERM');
    // The drain gets 1 ms; then the process must be gone (the runner's timeout, or main.ts' backstop 1 s later).
    const { code, ms } = await exitWithin(p, EXIT_BOUND_MS, signalAt);
    process.stderr.write(`shutdown: drain timeout (1 ms) to exit: ${ms.toFixed(0)} ms\n`);
    expect(code, p.stderr()).toBe(CUT);
    expect(p.stderr()).toMatch(/did not drain within 1 ms|drain did not finish within 1 ms/);
  }, 120_000);
});

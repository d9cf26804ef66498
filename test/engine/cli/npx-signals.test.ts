/**
 * Signals sent to `npx sluice …` reach the job (issue 16, finding 6). npx runs
 * the command through `sh -c` and forwards a signal only to that shell; on
 * SIGTERM the shell dies and, before, the job ran on, orphaned. Now it drains
 * and exits as after a direct signal. Ctrl-C in a terminal signals the whole
 * process group, the job included: that path is checked too.
 */
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.ts';
import { waitFor } from '../../helpers/sluice-process.ts';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const JOB = fileURLToPath(new URL('../../fixtures/jobs/counting-job.ts', import.meta.url));

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('signals through npx', () => {
  const cases = [
    { what: 'SIGTERM to the npx process (kill, systemd, Kubernetes)', sig: 'SIGTERM', group: false },
    { what: 'SIGINT to its process group (Ctrl-C in a terminal)', sig: 'SIGINT', group: true },
  ] as const;
  for (const { what, sig, group } of cases) {
    it(`${what} drains the job and ends it`, async () => {
      const npx = spawn('npx', ['sluice', 'run', JOB, '--state-dir', tempDir(), '--output-dir', tempDir(), '--workers', '1'], {
        cwd: ROOT,
        env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` },
        stdio: ['ignore', 'pipe', 'pipe'],
        // Its own process group, as a terminal's foreground job has.
        detached: group,
      });
      let out = '';
      let err = '';
      npx.stdout.on('data', (d: Buffer) => (out += d.toString()));
      npx.stderr.on('data', (d: Buffer) => (err += d.toString()));
      // Every process holding the pipes is gone when both close.
      const closed = Promise.all([new Promise((r) => npx.stdout.once('close', r)), new Promise((r) => npx.stderr.once('close', r))]);
      let job = 0;
      try {
        await waitFor('the job to start', () => /sluice: running counting \(pid (\d+)/.test(err), 120_000, 50);
        job = Number(/sluice: running counting \(pid (\d+)/.exec(err)![1]);
        if (group) process.kill(-npx.pid!, sig);
        else npx.kill(sig);
        await waitFor(`the job (pid ${job}) to exit after ${sig} to npx`, () => !alive(job), 60_000, 100);
        await closed;
        expect(out, err).toMatch(/job counting: STOPPED/);
      } finally {
        if (job && alive(job)) process.kill(job, 'SIGKILL');
        if (npx.exitCode === null) npx.kill('SIGKILL');
      }
    }, 240_000);
  }
});

/**
 * destroy() settles whatever waits on the worker: a terminated thread never
 * answers, and a promise left pending with no handle behind it ended the
 * process with Node's "unsettled top-level await" (exit 13) instead of the
 * job's failure, when one worker failed while another was starting or
 * opening its actors (job-failures.test.ts, seen under load).
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../../../engine/runtime/job-loader.ts';
import { WorkerHandle } from '../../../engine/runtime/worker-handle.ts';
import { builtinJobs } from '../../../jobs/registry.ts';
import { tempDir } from '../../helpers/temp.ts';

const JOB = fileURLToPath(new URL('../../fixtures/jobs/failing-job.ts', import.meta.url));

async function handle(): Promise<WorkerHandle> {
  const url = resolveJobModule(JOB, builtinJobs);
  const job = await loadJob(url);
  const settings = applySettings(job.settings, { failIn: 'none' });
  // The runner only lends its runtime config here; it is never started.
  const runner = new JobRunner({ jobModule: url, job, settings, workers: 1, stateDir: tempDir(), outputDir: tempDir() });
  return new WorkerHandle({ workerId: 0, jobModule: url, settings, runtime: runner.runtime }, () => {}, () => {});
}

describe('WorkerHandle.destroy', () => {
  it('rejects a start still waiting for the thread, with the error it was given', async () => {
    const w = await handle();
    const started = w.start();
    w.destroy(new Error('partition 1 failed'));
    await expect(started).rejects.toThrow('partition 1 failed');
    expect(w.lifecycle.state).toBe('FAILED');
  });

  it('rejects the requests in flight, and refuses new ones', async () => {
    const w = await handle();
    await w.start();
    const opening = w.request({ t: 'open', actorId: 'p0', partition: 0 });
    w.destroy();
    await expect(opening).rejects.toMatchObject({ code: 'SLUICE_ABORTED' });
    await expect(w.request({ t: 'open', actorId: 'p1', partition: 1 })).rejects.toMatchObject({ code: 'SLUICE_ILLEGAL_STATE' });
  });
});

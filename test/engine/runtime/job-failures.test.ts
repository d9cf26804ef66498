/**
 * What a failure does (issue 16, finding 3; docs/engine.md, "Failures"): an
 * exception in onTimer, onWatermark, onCheckpoint or onStart, or a source that
 * gives up, moves the job to FAILED; the process exits 1 with one line naming
 * the component, the partition and the cause, and the failure is counted in
 * the metrics. An exception in process() dead-letters its batch instead.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../../../engine/runtime/job-loader.ts';
import { RunnerMetrics } from '../../../metrics/runner-metrics.ts';
import { builtinJobs } from '../../../jobs/registry.ts';
import { tempDir } from '../../helpers/temp.ts';
import { runSluice } from '../../helpers/sluice-process.ts';

const JOB = fileURLToPath(new URL('../../fixtures/jobs/failing-job.ts', import.meta.url));

const CASES = [
  { failIn: 'timer', line: 'operator "fragile" onTimer on partition 1: boom in timer' },
  { failIn: 'watermark', line: 'operator "fragile" onWatermark on partition 1: boom in watermark' },
  { failIn: 'checkpoint', line: 'operator "fragile" onCheckpoint on partition 1: boom in checkpoint' },
  { failIn: 'start', line: 'operator "fragile" onStart on partition 1: boom in start' },
  { failIn: 'source', line: 'source "in" on partition 1: connect ECONNREFUSED 127.0.0.1:9 (the feed is gone)' },
];

describe('failures fail the job', () => {
  for (const c of CASES) {
    it(`an error in ${c.failIn} fails the job: exit 1, one line naming the component, the partition and the cause`, async () => {
      const r = await runSluice(['run', JOB, '--set', `failIn=${c.failIn}`, '--state-dir', tempDir(), '--output-dir', tempDir(), '--workers', '2', '--no-http']);
      expect(r.code, r.stderr).toBe(1);
      const lines = r.stderr.split('\n').filter(Boolean);
      // The start line, then the failure, once; nothing else.
      expect(lines, r.stderr).toEqual([expect.stringMatching(/^sluice: running failing \(pid \d+, state /), `sluice: ${c.line}`]);
    });
  }

  it('an error in process() dead-letters the batch, and the job goes on', async () => {
    const r = await runSluice(['run', JOB, '--set', 'failIn=process', '--set', 'count=300', '--state-dir', tempDir(), '--output-dir', tempDir(), '--workers', '2', '--no-http']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/job failing: STOPPED/);
    expect(r.stdout).toMatch(/dead letters: 300 /);
    expect(r.stdout).toMatch(/records out: +300 /);
  });

  it('the failure is counted in the metrics, with its component and partition', async () => {
    const url = resolveJobModule(JOB, builtinJobs);
    const job = await loadJob(url);
    const runner = new JobRunner({ jobModule: url, job, settings: applySettings(job.settings, { failIn: 'timer' }), workers: 2, stateDir: tempDir(), outputDir: tempDir() });
    // On a loaded machine the timer can fire before every partition is open: then start() itself
    // rejects with the failure (the rest is aborted); either way wait() names it.
    await runner.start().catch(() => {});
    await expect(runner.wait()).rejects.toThrow('operator "fragile" onTimer on partition 1: boom in timer');
    expect(runner.state).toBe('FAILED');
    const metrics = await RunnerMetrics.start(runner, { port: 0 });
    try {
      const text = await metrics.scrape();
      expect(text).toContain('sluice_job_failures_total{job="failing",component="operator",partition="1"} 1');
      expect(text).toContain('sluice_job_state{job="failing",state="FAILED"} 1');
    } finally {
      await metrics.close();
    }
  });
});

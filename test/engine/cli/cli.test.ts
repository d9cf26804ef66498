/** The `sluice` command as a user runs it: a real child process. */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resolveRunOptions } from '../../../engine/cli/options.ts';
import { runSluice, startSluice, waitFor } from '../../helpers/sluice-process.ts';
import { tempDir } from '../../helpers/temp.ts';

function countLines(dir: string): number {
  let n = 0;
  if (!existsSync(dir)) return 0;
  for (const part of readdirSync(dir)) {
    for (const f of readdirSync(join(dir, part))) if (f.endsWith('.jsonl')) n += readFileSync(join(dir, part, f), 'utf8').split('\n').filter(Boolean).length;
  }
  return n;
}

describe('sluice CLI', () => {
  it('lists the built-in jobs and prints help', async () => {
    const list = await runSluice(['list']);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/^orders-payments-demo\s/m);
    expect(list.stdout).toMatch(/^keyed-count\s/m);
    const help = await runSluice(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('sluice run <job> [options]');
  });

  it('gives meaningful exit codes for bad usage', async () => {
    expect((await runSluice([])).code).toBe(2);
    expect((await runSluice(['frobnicate'])).code).toBe(2);
    expect((await runSluice(['run', 'keyed-count', '--bogus'])).code).toBe(2);
    const missing = await runSluice(['run', 'no-such-job']);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('unknown job "no-such-job"');
    const badSetting = await runSluice(['run', 'keyed-count', '--set', 'nope=1']);
    expect(badSetting.code).toBe(2);
    expect(badSetting.stderr).toContain('unknown setting "nope"');
    const badType = await runSluice(['run', 'keyed-count', '--set', 'partitions=many']);
    expect(badType.code).toBe(2);
    const noBrokers = await runSluice(['run', 'keyed-count', '--state-dir', tempDir()]);
    expect(noBrokers.code).toBe(2);
    expect(noBrokers.stderr).toContain('--brokers');
  });

  it('runs a user job module given by path (importing the API as "sluice"), with settings from a config file and the environment', async () => {
    const out = tempDir();
    const cfg = join(tempDir(), 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ workers: 1, settings: { total: 999 } }));
    const r = await runSluice(['run', 'test/fixtures/jobs/user-job.ts', '--config', cfg, '--state-dir', tempDir(), '--output-dir', out], {
      SLUICE_SET: 'total=400',
    });
    expect(r.code, r.stderr).toBe(0);
    // total=400 per partition from the environment beats the file's 999; 2 partitions; "delta" (1 in 4) filtered out.
    expect(r.stdout).toMatch(/records in:\s+800/);
    expect(countLines(join(out, 'words'))).toBe(600);
  });

  it('runs the embedded demo and prints a summary', async () => {
    const out = tempDir();
    const r = await runSluice(['run', 'orders-payments-demo', '--set', 'ordersPerPartition=2000', '--state-dir', tempDir(), '--output-dir', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/records in:\s+16000/);
    expect(r.stdout).toMatch(/records out:\s+8000/);
    expect(r.stdout).toContain(`output:       ${out}`);
    expect(countLines(join(out, 'joined'))).toBe(8000);
  });

  it('SIGTERM drains within the bound; a restart resumes exactly where the drain stopped', async () => {
    const state = tempDir();
    const out = tempDir();
    const args = ['run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=file', '--set', 'perPartition=100000000',
      '--state-dir', state, '--output-dir', out, '--progress', '--shutdown-timeout', '10000'];
    const p = startSluice(args);
    await waitFor('a progress line', () => /sluice keyed-count \| in /.test(p.stderr()), 60_000);
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exited, p.stderr()).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const firstIn = Number(/records in:\s+(\d+)/.exec(p.stdout())![1]);
    expect(firstIn).toBeGreaterThan(0);
    // Second run: it continues from the checkpoint, so counts keep growing from where they were.
    const q = startSluice(args);
    await waitFor('a progress line', () => /sluice keyed-count \| in /.test(q.stderr()), 60_000);
    q.child.kill('SIGINT');
    expect(await q.exited, q.stderr()).toBe(0);
    const secondIn = Number(/records in:\s+(\d+)/.exec(q.stdout())![1]);
    // The highest count emitted for any key equals the total number of records it saw over both runs.
    const values = readdirSync(join(out, 'counts')).flatMap((part) =>
      readdirSync(join(out, 'counts', part)).flatMap((f) =>
        readFileSync(join(out, 'counts', part, f), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { key: string; count: number }),
      ),
    );
    const last = new Map<string, number>();
    for (const v of values) last.set(v.key, Math.max(last.get(v.key) ?? 0, v.count));
    expect([...last.values()].reduce((a, b) => a + b, 0)).toBe(firstIn + secondIn);
  });

  it('resolves options with the documented precedence', () => {
    const dir = tempDir();
    const cfg = join(dir, 'c.json');
    writeFileSync(cfg, JSON.stringify({ workers: 3, brokers: ['file:1'], checkpointIntervalMs: 500, settings: { a: 'file', b: 'file' } }));
    const o = resolveRunOptions({ config: cfg, workers: '2', set: ['a=cli'] }, { SLUICE_BROKERS: 'env:1,env:2', SLUICE_SET: 'b=env' }, false);
    expect(o.workers).toBe(2);
    expect(o.brokers).toEqual(['env:1', 'env:2']);
    expect(o.checkpointIntervalMs).toBe(500);
    expect(o.set).toEqual({ a: 'cli', b: 'env' });
    expect(o.progress).toBe(false);
    expect(() => resolveRunOptions({ workers: '0' }, {}, false)).toThrow(/--workers must be an integer >= 1/);
  });
});

/**
 * The runtime end to end on the embedded sources, in this process: real
 * worker threads, real LMDB, real files.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { JobRunner } from '../../../engine/runtime/job-runner.ts';
import { applySettings, loadJob, resolveJobModule } from '../../../engine/runtime/job-loader.ts';
import { builtinJobs } from '../../../jobs/registry.ts';
import { tempDir } from '../../helpers/temp.ts';

async function runner(jobArg: string, set: Record<string, string>, extra: Partial<ConstructorParameters<typeof JobRunner>[0]> = {}) {
  const url = resolveJobModule(jobArg, builtinJobs);
  const job = await loadJob(url);
  return new JobRunner({
    jobModule: url,
    job,
    settings: applySettings(job.settings, set),
    workers: 2,
    stateDir: tempDir(),
    outputDir: tempDir(),
    checkpointIntervalMs: 100,
    ...extra,
  });
}

function readJsonLines(dir: string): unknown[] {
  const out: unknown[] = [];
  if (!existsSync(dir)) return out;
  for (const part of readdirSync(dir).sort()) {
    for (const f of readdirSync(join(dir, part)).filter((x) => x.endsWith('.jsonl')).sort()) {
      for (const line of readFileSync(join(dir, part, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line));
    }
  }
  return out;
}

describe('embedded runtime', () => {
  it('keyed counts are exact with a state cache far smaller than the key set (state spills to LMDB)', async () => {
    const r = await runner('keyed-count', { source: 'generator', sink: 'file', keys: '4000', perPartition: '20000' }, { cacheMaxEntries: 64 });
    await r.start();
    const s = await r.wait();
    expect(s.recordsIn).toBe(80_000);
    const last = new Map<string, number>();
    for (const v of readJsonLines(join(s.outputDir, 'counts')) as Array<{ key: string; count: number }>) last.set(v.key, v.count);
    const want = new Map<string, number>();
    for (let p = 0; p < 4; p++) {
      for (let o = 0; o < 20_000; o++) {
        const k = `k${((o * 7919) % 1000) * 4 + p}`;
        want.set(k, (want.get(k) ?? 0) + 1);
      }
    }
    expect(last.size).toBe(want.size);
    expect(Object.fromEntries(last)).toEqual(Object.fromEntries(want));
  });

  it('poison records go to the dead-letter files with source, offset and reason; the job goes on', async () => {
    const dir = tempDir();
    const path = join(dir, 'in.ndjson');
    const lines: string[] = [];
    for (let n = 0; n < 40; n++) lines.push(n % 10 === 7 ? `{"n": ${n}, broken` : JSON.stringify({ n }));
    writeFileSync(path, lines.join('\n'));
    const r = await runner(new URL('../../fixtures/jobs/poison-job.ts', import.meta.url).pathname, { path });
    await r.start();
    const s = await r.wait();
    expect(s.deadLetters).toEqual({ decode_error: 4, process_error: 4 });
    const out = readJsonLines(join(s.outputDir, 'out')) as Array<{ n: number }>;
    expect(out.map((v) => v.n).sort((a, b) => a - b)).toEqual([...Array(40).keys()].filter((n) => n % 10 !== 7 && n % 10 !== 3));
    const dlq = readJsonLines(join(s.outputDir, 'dlq')) as Array<{ value: { source: string; offset: number; reason: string; error?: { code: string; message: string } } }>;
    expect(dlq).toHaveLength(8);
    const decode = dlq.filter((d) => d.value.reason === 'decode_error');
    expect(decode.map((d) => d.value.offset).sort((a, b) => a - b)).toEqual([7, 17, 27, 37]);
    expect(decode[0].value.source).toBe('lines');
    const proc = dlq.filter((d) => d.value.reason === 'process_error');
    expect(proc.map((d) => d.value.error?.message)).toContain('no threes: 13');
  });

  it('a stalled sink pauses the sources: input stays bounded, and everything is delivered once it recovers', async () => {
    const dir = tempDir();
    const flag = join(dir, 'go');
    const log = join(dir, 'log');
    const r = await runner(new URL('../../fixtures/jobs/stalling-sink-job.ts', import.meta.url).pathname, { flag, log });
    await r.start();
    // Reading stops once the sink is 4 epochs behind: wait until the count holds still (a loaded
    // machine gets there later), then check it stays put. Workers report counts once a second,
    // so readings are spaced wider than that.
    let stalledIn = -1;
    for (let i = 0; i < 20; i++) {
      await new Promise((res) => setTimeout(res, 1300));
      const now = r.summary().recordsIn;
      if (now === stalledIn && now > 0) break;
      stalledIn = now;
    }
    await new Promise((res) => setTimeout(res, 2600));
    const laterIn = r.summary().recordsIn;
    expect(laterIn).toBe(stalledIn);
    expect(stalledIn).toBeGreaterThan(0);
    expect(stalledIn).toBeLessThan(2 * 5 * 210_000);
    writeFileSync(flag, '');
    await new Promise((res) => setTimeout(res, 1500));
    expect(r.summary().recordsIn).toBeGreaterThan(laterIn); // resumed
    const s = await r.stop();
    const delivered = readFileSync(log, 'utf8').trim().split('\n').reduce((n, l) => n + Number(l.split(' ')[2]), 0);
    expect(delivered).toBe(s.recordsIn);
  });
});

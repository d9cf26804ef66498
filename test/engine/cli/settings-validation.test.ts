/**
 * Settings are checked before a job starts: a value outside a setting's
 * declared choices, and an unknown key in --config, are usage errors (exit 2)
 * that name what is allowed; more workers than partitions is a warning.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinJobs } from '../../../jobs/registry.ts';
import { ENGINE_SETTINGS, applySettings, loadJob } from '../../../engine/runtime/job-loader.ts';
import { runSluice } from '../../helpers/sluice-process.ts';
import { tempDir } from '../../helpers/temp.ts';

describe('job settings', () => {
  it('rejects a value outside the declared choices, listing them', async () => {
    const src = await runSluice(['run', 'keyed-count', '--set', 'source=generatr', '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(src.code, src.stderr).toBe(2);
    expect(src.stderr).toContain('setting "source" must be one of kafka, generator; got "generatr"');
    const sink = await runSluice(['run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=fil', '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(sink.code, sink.stderr).toBe(2);
    expect(sink.stderr).toContain('setting "sink" must be one of kafka, discard, file; got "fil"');
    // The check comes before anything runs: no summary was printed.
    expect(sink.stdout).toBe('');
  });

  it('rejects unknown keys in a --config file, naming the known ones', async () => {
    const cfg = join(tempDir(), 'cfg.json');
    writeFileSync(cfg, JSON.stringify({ worker: 2, settings: { source: 'generator' } }));
    const r = await runSluice(['run', 'keyed-count', '--config', cfg, '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/unknown key "worker" in .*cfg\.json; known keys: .*workers/);
  });

  it('warns when --workers exceeds the partition count', async () => {
    const r = await runSluice([
      'run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=discard', '--set', 'partitions=2', '--set', 'perPartition=100',
      '--workers', '5', '--state-dir', tempDir(), '--output-dir', tempDir(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning: --workers 5 is more than the 2 partitions of keyed-count: 3 workers would have nothing to do; running 2');
    const quiet = await runSluice([
      'run', 'keyed-count', '--set', 'source=generator', '--set', 'sink=discard', '--set', 'partitions=2', '--set', 'perPartition=100',
      '--workers', '2', '--state-dir', tempDir(), '--output-dir', tempDir(),
    ]);
    expect(quiet.code, quiet.stderr).toBe(0);
    expect(quiet.stderr).not.toContain('warning');
  });

  it('every built-in job declares the allowed values of its choice settings, and its defaults are among them', async () => {
    // The settings each built-in job switches on: a typo in any of them must not fall through to a default branch.
    const expected: Record<string, string[]> = {
      'keyed-count': ['source', 'codec', 'sink'],
      wikipedia: ['bigqueryMode', 'aggregatesTo', 'idleAdvance'],
      'orders-payments': ['sink', 'mongoWriteMode'],
      'users-to-cassandra': ['consistency'],
    };
    for (const [name, b] of Object.entries(builtinJobs)) {
      const job = await loadJob(b.href);
      expect(() => applySettings(job.settings, {}, job.choices), name).not.toThrow();
      for (const key of expected[name] ?? []) expect(job.choices?.[key]?.length, `${name}.${key}`).toBeGreaterThan(1);
    }
    for (const q of ['q0', 'q1', 'q2', 'q3', 'q5', 'q5-windows', 'q7', 'q8', 'gen']) {
      const job = await loadJob(new URL(`../../../jobs/nexmark/${q}.ts`, import.meta.url).href);
      expect(job.choices?.sink, q).toEqual(['discard', 'file']);
    }
    for (const q of ['q0', 'q1', 'q2', 'q3', 'q5', 'q7', 'q8']) {
      const job = await loadJob(new URL(`../../../jobs/nexmark-kafka/${q}.ts`, import.meta.url).href);
      expect(job.choices?.sink, `nexmark-kafka ${q}`).toEqual(['discard', 'file']);
    }
  });

  it('applySettings checks choices of numbers too, and the coercion still applies', () => {
    const choices = { mode: ['a', 'b'], level: [1, 2, 3] };
    expect(applySettings({ mode: 'a', level: 1 }, { mode: 'b', level: '3' }, choices)).toEqual({ ...ENGINE_SETTINGS, mode: 'b', level: 3 });
    expect(() => applySettings({ mode: 'a', level: 1 }, { level: '4' }, choices)).toThrow('setting "level" must be one of 1, 2, 3; got "4"');
    expect(() => applySettings({ mode: 'c', level: 1 }, {}, choices)).toThrow('setting "mode" must be one of a, b; got "c"');
  });

  it('every job has the dead-letter settings, dlqTopic and dlqMaxValueBytes, which it may override (issue 18)', () => {
    expect(applySettings({ mode: 'a' }, { dlqTopic: 'mine.dlq', dlqMaxValueBytes: '1000' })).toEqual({ mode: 'a', dlqTopic: 'mine.dlq', dlqMaxValueBytes: 1000 });
    expect(applySettings({ dlqTopic: 'job.dlq' }, {})).toMatchObject({ dlqTopic: 'job.dlq' });
    expect(() => applySettings({}, { dlqMaxValueBytes: 'lots' })).toThrow(/must be a number/);
  });
});

/**
 * /api/status of a real job run in this process (worker threads, LMDB, a
 * generator with dead letters): the document matches docs/status-api.md
 * field by field, its figures agree with the runner's counters, rates move,
 * and the endpoint is read-only.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applySettings, loadJob } from '../../engine/runtime/job-loader.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import type { StatusReport } from '../../metrics/status.ts';
import { tempDir } from '../helpers/temp.ts';
import { documentedShape, liveShape } from './status-shape.ts';

const JOB = new URL('../fixtures/jobs/status-page-job.ts', import.meta.url).href;
/** Objects keyed by names the job chooses (sinks, reasons). */
const KEYED = new Set(['totals.recordsOut', 'deadLetters.byReason']);

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('/api/status on an embedded job', () => {
  let r: JobRunner;
  let base: string;
  const status = async (): Promise<StatusReport> => {
    const res = await fetch(`${base}/api/status`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    return (await res.json()) as StatusReport;
  };

  beforeAll(async () => {
    const job = await loadJob(JOB);
    r = new JobRunner({ jobModule: JOB, job, settings: applySettings(job.settings, {}), workers: 2, stateDir: tempDir(), outputDir: tempDir(), checkpointIntervalMs: 200, metricsPort: 0 });
    await r.start();
    base = `http://127.0.0.1:${r.metricsAddress!.port}`;
  });

  afterAll(async () => {
    if (r.state === 'RUNNING') await r.stop();
  });

  it('matches the documented shape, field by field, both ways', async () => {
    // Wait for a document where every kind of figure has appeared (dead letters, checkpoints, a rate).
    const doc = await until('a full document', async () => {
      const s = await status();
      return s.deadLetters.latest.some((d) => d.error !== undefined) && s.deadLetters.latest.some((d) => d.error === undefined) && s.partitions.every((p) => p.checkpointAgeSeconds !== null && p.watermark !== null) && s.totals.perSecond > 0 ? s : undefined;
    });
    const documented = documentedShape();
    const live = liveShape(doc, KEYED);
    // Every live field is documented with its type.
    for (const [path, types] of live) {
      expect(documented.has(path), `${path} is not in docs/status-api.md`).toBe(true);
      for (const t of types) expect(documented.get(path), `${path}: type ${t}`).toContain(t);
    }
    // Every documented field is in the document, unless it lies under a null or an empty list (no group, no restores here).
    const absentBecause = (path: string): boolean => path.startsWith('group.') || path.startsWith('restores[]');
    const present = (path: string): boolean => live.has(path) || [...live.keys()].some((k) => k.startsWith(`${path}.`));
    for (const path of documented.keys()) if (!absentBecause(path)) expect(present(path), `${path} is documented but missing`).toBe(true);
    expect(doc.group).toBeNull();
    expect(doc.restores).toEqual([]);
  });

  it('reports the graph, rates on its edges, partitions and dead letters that agree with the runner', async () => {
    const s = await until('edge rates', async () => {
      const x = await status();
      return x.graph.edges.every((e) => e.perSecond > 0) ? x : undefined;
    });
    expect(s.version).toBe(1);
    expect(s.job).toBe('status-page');
    expect(s.state).toBe('RUNNING');
    expect(s.graph.nodes.map((n) => `${n.kind}:${n.name}`)).toEqual(['source:ticks', 'sink:all', 'operator:screen', 'operator:by-key', 'operator:count', 'sink:counts']);
    const edge = (from: string, to: string): StatusReport['graph']['edges'][number] => s.graph.edges.find((e) => e.from === from && e.to === to)!;
    // Every record of the source reaches both of its edges; screen drops every 70th to dead letters.
    expect(edge('source-ticks', 'screen').records).toBe(edge('source-ticks', 'sink-all-1').records);
    expect(edge('screen', 'by-key').records).toBeLessThan(edge('source-ticks', 'screen').records);
    expect(s.partitions.map((p) => [p.partition, p.owner, p.local, p.worker])).toEqual([[0, 'local', true, 0], [1, 'local', true, 1]]);
    const summary = r.summary();
    expect(s.totals.recordsIn).toBeLessThanOrEqual(summary.recordsIn);
    expect(Object.keys(s.deadLetters.byReason).sort()).toEqual(['seventy-eleven', 'validation_failed']);
    const long = s.deadLetters.latest.find((d) => d.reason === 'seventy-eleven')!;
    expect(long.value.length).toBe(201);
    expect(long.value.endsWith('…')).toBe(true);
    expect(long.operator).toBe('screen');
    const sorted = [...s.deadLetters.latest].sort((a, b) => b.at - a.at);
    expect(s.deadLetters.latest).toEqual(sorted);
  });

  it('serves the page at / with nothing from elsewhere, and changes nothing', async () => {
    const res = await fetch(`${base}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).toContain('/api/status');
    expect(html).not.toMatch(/(src|href)="https?:/);
    for (const method of ['POST', 'PUT', 'DELETE']) expect((await fetch(`${base}/api/status`, { method })).status).toBe(405);
  });
});

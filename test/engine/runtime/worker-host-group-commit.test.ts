/**
 * A worker commits the checkpoints that fall due in the same tick in one
 * LMDB transaction (WorkerHost.tickAll): fewer transactions than
 * checkpoints, and the output is still exact.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { WorkerHost } from '../../../engine/runtime/worker-host.ts';
import type { FromWorker } from '../../../engine/runtime/protocol.ts';
import { fileSink } from '../../../engine/sinks/file-sink.ts';
import { defineJob } from '../../../engine/contracts/job.ts';
import { generatorSource } from '../../../engine/contracts/sources.ts';
import { tempDir } from '../../helpers/temp.ts';

const PER_PARTITION = 30_000;

const job = defineJob({
  name: 'gc',
  sources: { g: generatorSource({ partitions: 3, count: PER_PARTITION, generate: (p, o) => ({ p, o }) }) },
  sinks: { out: fileSink({ dir: 'out' }) },
  pipeline: (b) => b.source<{ p: number; o: number }>('g').to('out'),
});

describe('worker group commit', () => {
  it('commits the actors due in one tick in one transaction, and loses or doubles nothing', async () => {
    const posted: FromWorker[] = [];
    const outputDir = tempDir();
    const runtime = {
      job: 'gc', appId: 'gc', stateDir: tempDir(), outputDir, brokers: [], embedded: true, epochTransactions: false,
      checkpointIntervalMs: 10, cacheMaxEntries: 1000, pullBatch: 200,
    };
    const host = new WorkerHost({ workerId: 0, jobModule: 'unused', settings: {}, runtime }, (m) => posted.push(m), job);
    await host.start();
    // Count the worker's shared transactions: the actors' own commits go through env.state.
    const root = (host as unknown as { env: { env: { root: { transactionSync: (fn: () => unknown) => unknown } } } }).env.env.root;
    const original = root.transactionSync.bind(root);
    let shared = 0;
    root.transactionSync = (fn) => {
      shared++;
      return original(fn);
    };
    for (let p = 0; p < 3; p++) host.handle({ t: 'open', id: p + 1, actorId: `p${p}`, partition: p });
    const deadline = Date.now() + 60_000;
    while (posted.filter((m) => m.t === 'finished').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(posted.filter((m) => m.t === 'finished')).toHaveLength(3);
    host.handle({ t: 'shutdown', id: 9 });
    while (!posted.some((m) => m.t === 'shutdown-done') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    expect(posted.find((m) => m.t === 'failed')).toBeUndefined();

    const checkpoints = posted
      .filter((m): m is Extract<FromWorker, { t: 'stats' }> => m.t === 'stats')
      .flatMap((m) => m.actors)
      .reduce((best, a) => best.set(a.actorId, Math.max(best.get(a.actorId) ?? 0, a.checkpoints)), new Map<string, number>());
    const total = [...checkpoints.values()].reduce((a, b) => a + b, 0);
    expect(shared).toBeGreaterThan(0);
    // Each shared transaction holds two or three checkpoints, so the commits are fewer than the checkpoints.
    expect(total).toBeGreaterThan(shared);

    for (let p = 0; p < 3; p++) {
      const dir = join(outputDir, 'out', `part-${p}`);
      const offsets = readdirSync(dir)
        .flatMap((f) => readFileSync(join(dir, f), 'utf8').split('\n').filter(Boolean))
        .map((l) => (JSON.parse(l) as { o: number }).o)
        .sort((a, b) => a - b);
      expect(offsets).toEqual(Array.from({ length: PER_PARTITION }, (_, i) => i));
    }
  });
});

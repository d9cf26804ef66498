/** Actor and worker lifecycles: legal paths work, illegal transitions throw with both states named. */
import { describe, expect, it } from 'vitest';
import { Lifecycle } from '../../../engine/runtime/lifecycle.ts';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import { WorkerHost } from '../../../engine/runtime/worker-host.ts';
import { defineJob } from '../../../engine/contracts/job.ts';
import { generatorSource } from '../../../engine/contracts/sources.ts';
import { discardSink } from '../../../engine/sinks/discard-sink.ts';
import type { FromWorker } from '../../../engine/runtime/protocol.ts';
import { tempDir } from '../../helpers/temp.ts';
import { openActor } from './actor-harness.ts';

describe('Lifecycle', () => {
  const legal = { A: ['B'], B: ['C'], C: [] } as const;
  it('follows legal transitions and refuses the rest', () => {
    const l = new Lifecycle<'A' | 'B' | 'C'>('thing', 'A', legal);
    const seen: string[] = [];
    l.onTransition((f, t) => seen.push(`${f}>${t}`));
    expect(() => l.transition('C')).toThrow(/thing: illegal transition A -> C \(legal: B\)/);
    l.transition('B');
    l.transition('C');
    expect(() => l.transition('A')).toThrow(/illegal transition C -> A \(legal: none\)/);
    expect(seen).toEqual(['A>B', 'B>C']);
  });
});

describe('partition actor lifecycle', () => {
  function nodes() {
    const b = new PipelineBuilder();
    b.source('in').to('out');
    return b.nodes;
  }

  it('goes CREATED -> RESTORING -> RUNNING -> CLOSING -> CLOSED', async () => {
    const h = await openActor({ stateDir: tempDir(), outDir: tempDir(), nodes: nodes() });
    const states: string[] = [h.actor.state];
    h.actor.lifecycle.onTransition((_f, t) => states.push(t));
    await h.actor.close();
    await h.env.close();
    expect(states).toEqual(['RUNNING', 'CLOSING', 'CLOSED']);
    // A closed actor cannot be reopened or restarted.
    expect(() => h.actor.open()).toThrow(/illegal transition CLOSED -> RESTORING/);
  });

  it('cannot open twice, and destroy() from RUNNING ends in FAILED without a checkpoint', async () => {
    const h = await openActor({ stateDir: tempDir(), outDir: tempDir(), nodes: nodes() });
    expect(() => h.actor.open()).toThrow(/illegal transition RUNNING -> RESTORING/);
    h.actor.ingest(0, [{ a: 1 }], [1], [0]);
    h.actor.destroy(new Error('boom'));
    expect(h.actor.state).toBe('FAILED');
    expect(h.actor.counters.checkpoints).toBe(0);
    await h.env.close();
  });
});

describe('worker lifecycle', () => {
  const job = defineJob({
    name: 'lc',
    sources: { g: generatorSource({ partitions: 1, count: 10, generate: (_p, o) => ({ o }) }) },
    sinks: { out: discardSink() },
    pipeline: (b) => b.source('g').to('out'),
  });

  it('starts, runs, shuts down; a second start or a batch for an unknown actor is refused', async () => {
    const posted: FromWorker[] = [];
    const init = {
      workerId: 0,
      jobModule: 'unused',
      settings: {},
      runtime: { job: 'lc', appId: 'lc', stateDir: tempDir(), outputDir: tempDir(), brokers: [], embedded: true, epochTransactions: false, checkpointIntervalMs: 1000, cacheMaxEntries: 100, pullBatch: 100 },
    };
    const host = new WorkerHost(init, (m) => posted.push(m), job);
    expect(host.lifecycle.state).toBe('CREATED');
    await host.start();
    expect(host.lifecycle.state).toBe('RUNNING');
    expect(posted.some((m) => m.t === 'ready')).toBe(true);
    await expect(host.start()).rejects.toThrow(/illegal transition RUNNING -> STARTING/);
    host.handle({ t: 'close', id: 7, actorId: 'p9' });
    await until(() => posted.some((m) => m.t === 'failed'));
    const failed = posted.find((m) => m.t === 'failed');
    expect(failed && failed.t === 'failed' && failed.error.code).toBe('SLUICE_ILLEGAL_STATE');
    host.handle({ t: 'shutdown', id: 8 });
    await until(() => posted.some((m) => m.t === 'shutdown-done'));
    expect(host.lifecycle.state).toBe('STOPPED');
    expect(posted.some((m) => m.t === 'shutdown-done')).toBe(true);
  });
});

describe('pipeline ids', () => {
  it('refuses duplicate operator ids and ids with a colon', () => {
    const b = new PipelineBuilder();
    const s = b.source('in');
    s.map((x) => x, 'same');
    expect(() => s.map((x) => x, 'same')).toThrow(/duplicate operator id "same"/);
    expect(() => s.map((x) => x, 'a:b')).toThrow(/contain no ':'/);
  });
});

/** Waits for a condition (the host answers asynchronously), polling; 30 s bounds a hang. */
async function until(cond: () => boolean): Promise<void> {
  for (const started = Date.now(); !cond(); ) {
    if (Date.now() - started > 30_000) throw new Error('condition not met within 30 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * Issue 18: the summary (and sluice_dead_letters_total) counts a dead letter
 * once it reached the dead-letter sink, not when it was made: a letter whose
 * epoch is never delivered is not counted.
 */
import { describe, expect, it } from 'vitest';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import type { SinkDelivery, SinkDriver } from '../../../engine/contracts/sinks.ts';
import { PartitionActor } from '../../../engine/runtime/partition-actor.ts';
import { openActorStore, openStoreEnv } from '../../../engine/runtime/stores.ts';
import { DEAD_LETTER_SINK } from '../../../engine/runtime/topology.ts';
import { tempDir } from '../../helpers/temp.ts';

/** A dead-letter sink that holds each delivery until released. */
class GatedSink implements SinkDriver {
  readonly got: unknown[] = [];
  private waiting: Array<() => void> = [];
  open = async (): Promise<void> => {};
  close = async (): Promise<void> => {};
  async deliver(d: SinkDelivery): Promise<void> {
    await new Promise<void>((r) => this.waiting.push(r));
    this.got.push(...d.records.map((r) => r.value));
  }
  release(): void {
    for (const r of this.waiting.splice(0)) r();
  }
}

describe('dead-letter counts', () => {
  it('a letter counts once its epoch reached the dead-letter sink', async () => {
    process.env.SLUICE_STATE_NOSYNC = '1';
    const env = openStoreEnv(tempDir());
    const store = openActorStore(env, 'p0', { cacheMaxEntries: 100 });
    const b = new PipelineBuilder();
    b.source('in').to('out');
    const dlq = new GatedSink();
    const out: SinkDriver = { open: async () => {}, close: async () => {}, deliver: async () => {} };
    const actor = new PartitionActor({
      job: 'count', group: 'g1', actorId: 'p0', partition: 0,
      inputs: [{ sourceId: 'in', watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0 } }],
      nodes: b.nodes, store: store.store,
      sinks: new Map<string, SinkDriver>([['out', out], [DEAD_LETTER_SINK, dlq]]),
      checkpointIntervalMs: 1e12,
    });
    actor.open();
    actor.deadLetterInput(0, 5, Buffer.from('k'), { raw: Buffer.from('{"oops') }, 'decode_error', new Error('bad'));
    expect(Object.fromEntries(actor.counters.deadLetters)).toEqual({});
    await actor.checkpoint();
    // Committed, not delivered: not counted.
    await new Promise((r) => setImmediate(r));
    expect(Object.fromEntries(actor.counters.deadLetters)).toEqual({});
    dlq.release();
    await actor.drainDeliveries();
    expect(Object.fromEntries(actor.counters.deadLetters)).toEqual({ decode_error: 1 });
    expect(dlq.got).toMatchObject([{ reason: 'decode_error', group: 'g1', offset: 5, key: 'k', raw: { bytes: 6, text: '{"oops' } }]);
    actor.destroy();
    store.close();
    await env.close();
  });
});

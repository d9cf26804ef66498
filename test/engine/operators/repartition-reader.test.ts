/**
 * The repartition reader drops what an upstream redelivery wrote again, also
 * across a restart of its own actor (its marks are checkpointed state).
 */
import { describe, expect, it } from 'vitest';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import type { SinkDriver } from '../../../engine/contracts/sinks.ts';
import { RepartitionReader } from '../../../engine/operators/repartition-reader.ts';
import type { RepartitionEnvelope } from '../../../engine/sinks/repartition-sink.ts';
import { PartitionActor } from '../../../engine/runtime/partition-actor.ts';
import { openActorStore, openStoreEnv, type StoreEnvHandle } from '../../../engine/runtime/stores.ts';
import { DEAD_LETTER_SINK } from '../../../engine/runtime/topology.ts';
import { tempDir } from '../../helpers/temp.ts';
import { MemorySink } from './join-harness.ts';

function open(env: StoreEnvHandle, out: MemorySink, dlq: MemorySink) {
  const b = new PipelineBuilder();
  b.source<RepartitionEnvelope<string>>('in').process(new RepartitionReader<string>(), 'reader').to('out');
  const store = openActorStore(env, 'p0', { cacheMaxEntries: 100 });
  const actor = new PartitionActor({
    job: 't',
    actorId: 'p0',
    partition: 0,
    inputs: [{ sourceId: 'in', watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0 } }],
    nodes: b.nodes,
    store: store.store,
    sinks: new Map<string, SinkDriver>([
      ['out', out],
      [DEAD_LETTER_SINK, dlq],
    ]),
    checkpointIntervalMs: 1e12,
  });
  actor.open();
  return { actor, store };
}

const env = (p: number, e: number, s: number, k: string | null = `k${s}`): RepartitionEnvelope<string> => ({ s: [p, e, s], t: 1000 + s, k, v: `${p}/${e}/${s}` });

describe('RepartitionReader', () => {
  it('passes each upstream record once: redelivered epochs, retried prefixes and a restart drop nothing new and double nothing', async () => {
    process.env.SLUICE_STATE_NOSYNC = '1';
    const h = openStoreEnv(tempDir());
    const out = new MemorySink();
    const dlq = new MemorySink();
    let offset = 0;
    const feed = (a: PartitionActor, xs: Array<RepartitionEnvelope<string> | unknown>): void => {
      const offs = xs.map(() => offset++);
      a.ingest(0, xs, xs.map(() => 1000), offs);
    };
    const first = open(h, out, dlq);
    feed(first.actor, [env(0, 1, 0), env(0, 1, 1), env(1, 4, 0), env(0, 1, 2)]);
    feed(first.actor, [env(0, 1, 0), env(0, 1, 1), env(0, 1, 2), env(0, 1, 3)]); // epoch 1 of p0 redelivered, plus its tail
    feed(first.actor, [env(1, 4, 0), env(1, 5, 0), env(0, 2, 0, null), { not: 'an envelope' }]);
    await first.actor.checkpoint();
    feed(first.actor, [env(1, 5, 1)]); // processed, not checkpointed: lost with the crash below
    first.actor.destroy();
    first.store.close();
    const second = open(h, out, dlq);
    offset = second.actor.position(0);
    feed(second.actor, [env(1, 5, 1), env(0, 2, 0, null), env(1, 5, 0), env(0, 2, 1)]);
    await second.actor.close();
    second.store.close();
    await h.close();
    const values = [...out.byId.values()].map(String).sort();
    expect(values).toEqual(['0/1/0', '0/1/1', '0/1/2', '0/1/3', '0/2/0', '0/2/1', '1/4/0', '1/5/0', '1/5/1']);
    expect([...dlq.byId.values()].map((d) => (d as { reason: string }).reason)).toEqual(['bad_repartition_record']);
    const counts = second.actor.counters.operatorCounts;
    expect(counts.get('reader:repartition_duplicates')).toBe(2); // (0,2,0) and (1,5,0) again after the restart
  });
});

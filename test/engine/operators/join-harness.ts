/**
 * Drives one PartitionActor running an interval join directly, on a real
 * LMDB store: what a worker does, minus the thread and Kafka. The sinks are
 * in-memory maps keyed by record id, i.e. idempotent the way the contract
 * asks (a redelivered record overwrites itself), so output read back after a
 * crash and restart shows lost or doubled records as such.
 */
import type { SinkDelivery, SinkDriver } from '../../../engine/contracts/sinks.ts';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import { PartitionActor, type FaultPoint } from '../../../engine/runtime/partition-actor.ts';
import { openActorStore, type ActorStoreHandle, type StoreEnvHandle } from '../../../engine/runtime/stores.ts';
import { DEAD_LETTER_SINK } from '../../../engine/runtime/topology.ts';
import { IntervalJoin, JOIN_SIDE_OUTPUTS } from '../../../engine/operators/interval-join.ts';
import type { JoinParams, ModelBatch, Rec } from './interval-join-model.ts';

export class MemorySink implements SinkDriver {
  readonly byId = new Map<string, unknown>();
  deliveries = 0;
  async open(): Promise<void> {}
  async deliver(d: SinkDelivery): Promise<void> {
    this.deliveries++;
    for (const r of d.records) this.byId.set(r.id, r.value);
  }
  async close(): Promise<void> {}
}

export function joinPipeline(p: JoinParams) {
  const b = new PipelineBuilder();
  const left = b.source<Rec>('left').keyBy((r) => r.key, 'key-left');
  const right = b.source<Rec>('right').keyBy((r) => r.key, 'key-right');
  const joined = b.connect(left, right).process(
    new IntervalJoin<Rec, Rec, string>({
      mode: p.mode,
      lowerBoundMs: p.lower,
      upperBoundMs: p.upper,
      graceMs: p.grace,
      uniqueLeft: p.uniqueLeft,
      timerBucketMs: p.bucket,
      joined: (l, r) => `J:${l.id}:${r.id}`,
      leftOnly: (l) => `L:${l.id}`,
      rightOnly: (r) => `R:${r.id}`,
    }),
    'join',
  );
  const lateL = joined.sideOutput<Rec>(JOIN_SIDE_OUTPUTS.lateLeft).map((r) => `LATE-L:${r.id}`, 'tag-late-left');
  const lateR = joined.sideOutput<Rec>(JOIN_SIDE_OUTPUTS.lateRight).map((r) => `LATE-R:${r.id}`, 'tag-late-right');
  const dup = joined.sideOutput<Rec>(JOIN_SIDE_OUTPUTS.duplicate).map((r) => `DUP:${r.id}`, 'tag-dup');
  joined.union(lateL, lateR, dup).to('out');
  return b.nodes;
}

export interface JoinActor {
  actor: PartitionActor;
  store: ActorStoreHandle;
}

export function openJoinActor(
  env: StoreEnvHandle,
  actorId: string,
  p: JoinParams,
  sinks: { out: MemorySink; dlq: MemorySink },
  fault?: (point: FaultPoint) => void,
): JoinActor {
  const store = openActorStore(env, actorId, { cacheMaxEntries: 64 });
  const actor = new PartitionActor({
    job: 't',
    actorId,
    partition: 0,
    inputs: ['left', 'right'].map((sourceId) => ({ sourceId, watermark: { maxOutOfOrdernessMs: p.ooo, idleTimeoutMs: 0 } })),
    nodes: joinPipeline(p),
    store: store.store,
    sinks: new Map<string, SinkDriver>([
      ['out', sinks.out],
      [DEAD_LETTER_SINK, sinks.dlq],
    ]),
    checkpointIntervalMs: 1_000_000_000,
    fault,
  });
  actor.open();
  return { actor, store };
}

/**
 * Feeds the batches (input offsets counted per input from 0), checkpointing
 * after the batches whose index is in `checkpointAfter`. Records below an
 * input's position are skipped by the actor itself, so after a restart the
 * caller can feed the same batches again from the start.
 */
export async function feedBatches(actor: PartitionActor, batches: readonly ModelBatch[], checkpointAfter: ReadonlySet<number>, stopAt = batches.length): Promise<void> {
  const next = [0, 0];
  for (let i = 0; i < stopAt; i++) {
    const b = batches[i];
    const n = b.records.length;
    const offsets = Array.from({ length: n }, (_, k) => next[b.input] + k);
    next[b.input] += n;
    if (n > 0) actor.ingest(b.input, b.records, b.records.map((r) => r.t), offsets);
    if (checkpointAfter.has(i)) await actor.checkpoint();
  }
}

/** Ends both inputs (the watermark goes to +Infinity: every timer fires), then closes cleanly. */
export async function finishAndClose(actor: PartitionActor): Promise<void> {
  actor.finishInput(0);
  actor.finishInput(1);
  await actor.close();
}

export function rows(sink: MemorySink): string[] {
  return [...sink.byId.values()].map(String).sort();
}

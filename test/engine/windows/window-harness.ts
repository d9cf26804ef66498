/**
 * Runs a window operator inside a real PartitionActor (real LMDB state and
 * timers, the runtime's watermark tracker), one record per batch, so the
 * watermark before record i is max(times of records before i) - bound. At the
 * end the input finishes (watermark +Infinity) and the actor closes, which
 * delivers everything. Optionally the actor is destroyed and reopened from
 * its last checkpoint in the middle, as after a crash.
 */
import type { Key, Operator } from '../../../engine/contracts/operator.ts';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import type { SinkDelivery, SinkDriver } from '../../../engine/contracts/sinks.ts';
import { PartitionActor } from '../../../engine/runtime/partition-actor.ts';
import { openActorStore, type StoreEnvHandle } from '../../../engine/runtime/stores.ts';
import { DEAD_LETTER_SINK } from '../../../engine/runtime/topology.ts';
import type { WindowResult } from '../../../engine/operators/windows/index.ts';

export interface In {
  k: string;
  t: number;
  v: number;
}

/** Collects deliveries by record id, so a redelivered epoch replaces itself (as an idempotent sink would). */
export class CollectSink implements SinkDriver {
  readonly byId = new Map<string, unknown>();
  async open(): Promise<void> {}
  async deliver(d: SinkDelivery): Promise<void> {
    for (const r of d.records) this.byId.set(r.id, r.value);
  }
  async close(): Promise<void> {}
  values<T>(): T[] {
    // Ids are <partition>-<epoch>-<seq>: order by epoch, then seq.
    return [...this.byId]
      .map(([id, v]) => ({ k: id.split('-').slice(1).map(Number), v }))
      .sort((a, b) => a.k[0] - b.k[0] || a.k[1] - b.k[1])
      .map((x) => x.v as T);
  }
}

export interface RunResult<R> {
  out: Array<WindowResult<R>>;
  late: In[];
  dead: unknown[];
  counts: Map<string, number>;
}

let actorSeq = 0;

export async function runWindow<R>(o: {
  env: StoreEnvHandle;
  makeOperator: () => Operator<In, WindowResult<R>>;
  events: readonly In[];
  boundMs: number;
  /** Checkpoint after these record indexes. */
  checkpointAfter?: ReadonlySet<number>;
  /** Destroy the actor after this record index (no checkpoint) and reopen it from its last checkpoint. */
  crashAfter?: number;
}): Promise<RunResult<R>> {
  const actorId = `w${actorSeq++}`;
  const out = new CollectSink();
  const late = new CollectSink();
  const dead = new CollectSink();
  const sinks = new Map<string, SinkDriver>([
    ['out', out],
    ['late', late],
    [DEAD_LETTER_SINK, dead],
  ]);
  const counts = new Map<string, number>();
  const open = (): { actor: PartitionActor; close: () => void } => {
    const b = new PipelineBuilder();
    const win = b.source<In>('in').keyBy((e) => e.k as Key, 'key').process(o.makeOperator(), 'win');
    win.to('out');
    win.sideOutput('late').to('late');
    const store = openActorStore(o.env, actorId, { cacheMaxEntries: 10_000 });
    const actor = new PartitionActor({
      job: 'windows',
      actorId,
      partition: 0,
      inputs: [{ sourceId: 'in', watermark: { maxOutOfOrdernessMs: o.boundMs, idleTimeoutMs: 0 } }],
      nodes: b.nodes,
      store: store.store,
      sinks,
      checkpointIntervalMs: 1e12,
    });
    actor.open();
    return { actor, close: () => store.close() };
  };
  let cur = open();
  let i = cur.actor.position(0);
  let crashed = false;
  while (i < o.events.length) {
    const e = o.events[i];
    cur.actor.ingest(0, [e], [e.t], [i]);
    if (o.checkpointAfter?.has(i)) await cur.actor.checkpoint();
    if (o.crashAfter === i && !crashed) {
      crashed = true;
      cur.actor.destroy();
      cur.close();
      cur = open();
      i = cur.actor.position(0);
      continue;
    }
    i++;
  }
  cur.actor.finishInput(0);
  await cur.actor.close();
  // Operator counters are metrics, not state: after a crash they cover only the reopened actor.
  for (const [k, v] of cur.actor.counters.operatorCounts) counts.set(k.replace(/^win:/, ''), v);
  cur.close();
  return { out: out.values(), late: late.values(), dead: dead.values(), counts };
}

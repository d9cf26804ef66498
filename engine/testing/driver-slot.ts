/**
 * One partition of a TestDriver (a Slot): its PartitionActor, state store,
 * sink connections and input log, replaced whole when the driver simulates a
 * crash; and reads of an operator's state across the slots, as a test sees
 * it (the first partition that holds the key answers: a key lives in one).
 */
import type { JobDefinition, Settings } from '../contracts/job.ts';
import type { Key, MapState, ValueState } from '../contracts/operator.ts';
import { PipelineBuilder } from '../contracts/pipeline.ts';
import type { SinkDriver } from '../contracts/sinks.ts';
import { PartitionActor, type FaultPoint } from '../runtime/partition-actor.ts';
import { openActorStore, type ActorStoreHandle } from '../runtime/stores.ts';
import type { StateEnv } from '../../state/env.ts';
import type { InputBinding, LogEvent } from './input-log.ts';
import { SinkConnection, type MemorySink } from './memory-sink.ts';

export interface Slot {
  readonly partition: number;
  actor: PartitionActor;
  store: ActorStoreHandle;
  connections: SinkConnection[];
  readonly log: LogEvent[];
  readonly nextOffset: number[];
}

/** What every slot of a driver is opened with: the job, its inputs and sinks, and the driver's clock and fault hook. */
export interface SlotContext {
  job: JobDefinition<Settings>;
  settings: Settings;
  bindings: readonly InputBinding[];
  sinks: ReadonlyMap<string, MemorySink>;
  env: StateEnv;
  cacheMaxEntries: number;
  checkpointIntervalMs: number;
  fault: (p: FaultPoint) => void;
  now: () => number;
}

/**
 * Opens partition `partition`'s slot: its store in the driver's state env,
 * fresh connections to the memory sinks (a crash severs the old ones), and
 * an actor built from the job's pipeline, as a worker builds it.
 */
export function openSlot(c: SlotContext, partition: number, log: LogEvent[], nextOffset: number[]): Slot {
  const store = openActorStore({ env: c.env, close: async () => {} }, `p${partition}`, { cacheMaxEntries: c.cacheMaxEntries });
  const connections: SinkConnection[] = [];
  const drivers = new Map<string, SinkDriver>();
  for (const [id, sink] of c.sinks) {
    const conn = new SinkConnection(sink);
    connections.push(conn);
    drivers.set(id, conn);
  }
  const b = new PipelineBuilder();
  c.job.pipeline(b, c.settings);
  const actor = new PartitionActor({
    job: c.job.name,
    actorId: `p${partition}`,
    partition,
    inputs: c.bindings.map((i) => ({
      sourceId: i.sourceId,
      watermark: {
        maxOutOfOrdernessMs: i.spec.watermark?.maxOutOfOrdernessMs ?? 0,
        idleTimeoutMs: i.spec.watermark?.idleTimeoutMs ?? 0,
        idleAdvance: i.spec.watermark?.idleAdvance,
      },
    })),
    nodes: b.nodes,
    store: store.store,
    sinks: drivers,
    checkpointIntervalMs: c.checkpointIntervalMs,
    fault: c.fault,
    now: c.now,
  });
  actor.open();
  return { partition, actor, store, connections, log, nextOffset };
}

function firstDefined<T>(slots: readonly Slot[], read: (s: Slot) => T | undefined): T | undefined {
  for (const s of slots) {
    const v = read(s);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** Operator `operatorId`'s value state `name`, read across partitions (live, including what is not checkpointed yet). */
export function valueStateAcross<T>(slots: readonly Slot[], operatorId: string, name: string): Pick<ValueState<T>, 'get'> {
  return { get: (key: Key) => firstDefined(slots, (s) => s.store.store.valueState<T>(operatorId, name).get(key)) };
}

/** Operator `operatorId`'s map state `name`, read across partitions. */
export function mapStateAcross<V>(slots: readonly Slot[], operatorId: string, name: string): Pick<MapState<V>, 'get' | 'entries' | 'keys'> {
  const of = (key: Key): MapState<V> | undefined =>
    firstDefined(slots, (s) => {
      const m = s.store.store.mapState<V>(operatorId, name);
      return m.keys(key).length > 0 ? m : undefined;
    });
  return {
    get: (key, field) => of(key)?.get(key, field),
    entries: (key) => of(key)?.entries(key) ?? [],
    keys: (key) => of(key)?.keys(key) ?? [],
  };
}

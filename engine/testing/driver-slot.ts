/**
 * One partition of a TestDriver (a Slot): its PartitionActor, state store,
 * sink connections and input log, replaced whole when the driver simulates a
 * crash; and reads of an operator's state across the slots, as a test sees
 * it (the first partition that holds the key answers: a key lives in one).
 */
import type { Key, MapState, ValueState } from '../contracts/operator.ts';
import type { PartitionActor } from '../runtime/partition-actor.ts';
import type { ActorStoreHandle } from '../runtime/stores.ts';
import type { LogEvent } from './input-log.ts';
import type { SinkConnection } from './memory-sink.ts';

export interface Slot {
  readonly partition: number;
  actor: PartitionActor;
  store: ActorStoreHandle;
  connections: SinkConnection[];
  readonly log: LogEvent[];
  readonly nextOffset: number[];
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

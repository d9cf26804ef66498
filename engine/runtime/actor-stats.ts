/**
 * One actor's statistics as a worker reports them to the main thread (the
 * `stats` message, protocol.ts): plain data, copied out of the actor's live
 * counters so that the message can be structured-cloned.
 */
import type { PartitionActor } from './partition-actor.ts';
import type { ActorStore } from './store-contract.ts';
import type { ActorStats } from './protocol.ts';

export function actorStats(a: PartitionActor, st: ReturnType<ActorStore['stats']>, finished: boolean): ActorStats {
  const c = a.counters;
  return {
    actorId: a.id,
    instance: a.instance,
    partition: Number(a.id.replace(/^\D+/, '')),
    recordsIn: [...c.recordsIn],
    recordsOut: Object.fromEntries(c.recordsOut),
    deadLetters: Object.fromEntries(c.deadLetters),
    operatorCounts: Object.fromEntries(c.operatorCounts),
    checkpoints: c.checkpoints,
    lastCheckpointAt: c.lastCheckpointAt,
    lastCheckpointMs: c.lastCheckpointMs,
    lastCheckpointBytes: c.lastCheckpointBytes,
    watermark: a.watermarkValue,
    undeliveredEpochs: a.undeliveredEpochs,
    stateKeys: st.stateKeys,
    stateBytes: st.stateBytes,
    stateByOperator: st.byOperator,
    cachedEntries: st.cachedEntries,
    positions: a.positionMap(),
    finished,
    backpressured: a.backpressured,
  };
}

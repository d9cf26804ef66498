/** ActorStats as a worker reports them, with defaults for what a test does not care about. */
import type { ActorStats } from '../../engine/runtime/protocol.ts';

export function stats(actorId: string, over: Partial<ActorStats> = {}): ActorStats {
  return {
    actorId,
    partition: Number(actorId.slice(1)),
    recordsIn: [0],
    recordsOut: {},
    deadLetters: {},
    operatorCounts: {},
    checkpoints: 0,
    lastCheckpointAt: 0,
    lastCheckpointMs: 0,
    lastCheckpointBytes: 0,
    watermark: -Infinity,
    undeliveredEpochs: 0,
    undeliveredRecords: 0,
    peakUndeliveredRecords: 0,
    epochBoundCheckpoints: 0,
    peakEpochRecords: 0,
    stateKeys: 0,
    stateBytes: 0,
    cachedEntries: 0,
    positions: {},
    finished: false,
    backpressured: false,
    ...over,
  };
}

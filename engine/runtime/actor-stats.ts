/**
 * One actor's statistics as a worker reports them to the main thread (the
 * `stats` message, protocol.ts): plain data, copied out of the actor's live
 * counters so that the message can be structured-cloned.
 */
import type { PartitionActor } from './partition-actor.ts';
import type { ActorStore } from './store-contract.ts';
import type { DeadLetterRecord } from './actor-options.ts';
import type { ActorStats, DeadLetterSample } from './protocol.ts';

/** A dead letter's value is shown, not kept: cut to this many characters of JSON. */
export const DEAD_LETTER_VALUE_CHARS = 200;

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
    watermark: a.currentWatermark(),
    undeliveredEpochs: a.undeliveredEpochs,
    undeliveredRecords: a.undeliveredRecords.now,
    peakUndeliveredRecords: a.undeliveredRecords.peak,
    epochBoundCheckpoints: c.epochBoundCheckpoints,
    peakEpochRecords: c.peakEpochRecords,
    stateKeys: st.stateKeys,
    stateBytes: st.stateBytes,
    stateByOperator: st.byOperator,
    cachedEntries: st.cachedEntries,
    positions: a.positionMap(),
    finished,
    backpressured: a.backpressured,
    nodeOut: a.outputCounts(),
    recentDeadLetters: c.recentDeadLetters.map(sample),
    stalls: a.stalls(),
  };
}

/** Serialized here, once per stats message (about a second), not when the record is dead-lettered. */
function sample(d: DeadLetterRecord): DeadLetterSample {
  let value: string;
  try {
    // A letter carries its record as `value`, or as `raw` (a bounded prefix: dead-letter.ts).
    const raw = d.raw;
    value = raw ? (raw.text ?? `base64:${raw.base64 ?? ''}`) : typeof d.value === 'string' ? d.value : (JSON.stringify(d.value, bytesAsText) ?? String(d.value));
  } catch {
    value = String(d.value);
  }
  if (value.length > DEAD_LETTER_VALUE_CHARS) value = `${value.slice(0, DEAD_LETTER_VALUE_CHARS)}…`;
  return { at: d.at, partition: d.partition, operator: d.operator, reason: d.reason, error: d.error?.message, value };
}

/** Raw Kafka bytes (a record that failed to decode) read better as text than as {type:'Buffer', data:[...]}. */
function bytesAsText(_key: string, v: unknown): unknown {
  const b = v as { type?: unknown; data?: unknown } | null;
  if (b && b.type === 'Buffer' && Array.isArray(b.data)) return Buffer.from(b.data.slice(0, DEAD_LETTER_VALUE_CHARS * 4) as number[]).toString('utf8');
  return v;
}

/**
 * The per-actor checkpoint record.
 *
 * Stored in the `meta` db, written last by every checkpoint transaction:
 *
 *   key   [actorId, 'checkpoint']
 *   value { epoch, positions, extra?, stateKeys, stateBytes, byOperator?, committedAt } (msgpack)
 *
 * `byOperator` splits the two counts by operator: { op: [keys, bytes] }.
 *
 * `positions` maps "source:partition" to the NEXT offset to read. `stateKeys`
 * and `stateBytes` count the actor's entries and value bytes in the `state`
 * db; each checkpoint adjusts them by what it wrote, so stats() never scans.
 */
import type { BinaryDb } from './env.ts';
import { encodeValue, decodeValue } from './codec.ts';

export interface CheckpointMeta {
  epoch: number;
  positions: Record<string, number>;
  extra?: unknown;
  stateKeys: number;
  stateBytes: number;
  byOperator?: Record<string, [number, number]>;
  committedAt: number;
}

export function checkpointKey(actorId: string): [string, string] {
  return [actorId, 'checkpoint'];
}

export function readCheckpointMeta(db: BinaryDb, actorId: string): CheckpointMeta | undefined {
  const buf = db.getBinaryFast(checkpointKey(actorId));
  return buf === undefined ? undefined : decodeValue<CheckpointMeta>(buf);
}

/** Must run inside `transactionSync`. Returns the bytes written. */
export function writeCheckpointMeta(db: BinaryDb, actorId: string, meta: CheckpointMeta): number {
  const record: CheckpointMeta = {
    epoch: meta.epoch,
    positions: meta.positions,
    stateKeys: meta.stateKeys,
    stateBytes: meta.stateBytes,
    committedAt: meta.committedAt,
  };
  if (meta.extra !== undefined) record.extra = meta.extra;
  if (meta.byOperator !== undefined) record.byOperator = meta.byOperator;
  const buf = encodeValue(record);
  db.putSync(checkpointKey(actorId), buf);
  return buf.length;
}

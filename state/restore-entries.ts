/**
 * Writes state and timer entries replicated from a changelog into one actor's
 * LMDB ranges (PartitionStore.restoreEntries), and keeps the store's key and
 * byte counts right while doing it, so that the state-size metrics are
 * correct as soon as a restore ends, without a scan.
 *
 * Entries are written in transactions of `batch` entries: a restore of
 * millions of keys must not hold LMDB's single writer lock (shared by every
 * actor of the process) for its whole length. The count helpers at the end
 * serve PartitionStore.commit too.
 */
import type { Key } from 'lmdb';
import type { BinaryDb } from './env.ts';
import { SluiceError, ErrorCodes } from '../engine/errors.ts';

export interface RestoredEntry {
  db: 'state' | 'timers';
  /** The LMDB key: an array starting with the actor id, then the operator. */
  key: Key;
  /** The stored bytes, or null: a tombstone. */
  value: Buffer | null;
}

export interface StateCounts {
  stateKeys: number;
  stateBytes: number;
  /** Per operator: [keys, bytes]. */
  byOperator?: Record<string, [number, number]>;
}

export function writeRestoredEntries(
  state: BinaryDb,
  timers: BinaryDb,
  actorId: string,
  entries: ReadonlyArray<RestoredEntry>,
  batch: number,
  counts: StateCounts,
): StateCounts {
  let keys = counts.stateKeys;
  let bytes = counts.stateBytes;
  const byOperator = copyCounts(counts.byOperator);
  for (let i = 0; i < entries.length; i += batch) {
    state.transactionSync(() => {
      for (let j = i; j < Math.min(entries.length, i + batch); j++) {
        const e = entries[j];
        if (!Array.isArray(e.key) || e.key[0] !== actorId) {
          throw new SluiceError(ErrorCodes.STATE, `restore of ${actorId}: key ${JSON.stringify(e.key)} belongs to another actor`);
        }
        const db = e.db === 'state' ? state : timers;
        const old = e.db === 'state' ? (state.getBinaryFast(e.key)?.length ?? 0) : 0;
        if (e.value === null) {
          if (db.removeSync(e.key) && e.db === 'state') {
            keys--;
            bytes -= old;
            bump(byOperator, (e.key as unknown[])[1], -1, -old);
          }
        } else {
          db.putSync(e.key, e.value);
          if (e.db === 'state') {
            if (old === 0) keys++;
            bytes += e.value.length - old;
            bump(byOperator, (e.key as unknown[])[1], old === 0 ? 1 : 0, e.value.length - old);
          }
        }
      }
    });
  }
  return { stateKeys: keys, stateBytes: bytes, byOperator };
}

export function copyCounts(c: Record<string, [number, number]> | undefined): Record<string, [number, number]> {
  const out: Record<string, [number, number]> = {};
  if (c) for (const [k, v] of Object.entries(c)) out[k] = [v[0], v[1]];
  return out;
}

/** Adjusts one operator's [keys, bytes]; an operator left with no keys is dropped. */
export function bump(c: Record<string, [number, number]>, operator: unknown, keys: number, bytes: number): void {
  const op = String(operator);
  const v = (c[op] ??= [0, 0]);
  v[0] += keys;
  v[1] += bytes;
  if (v[0] <= 0) delete c[op];
}

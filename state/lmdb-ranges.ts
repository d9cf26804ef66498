/**
 * Deleting a key range inside the current write transaction. lmdb-js has no
 * range delete, and removing entries under a live cursor is not something it
 * promises to handle, so keys are collected in bounded batches and removed
 * after each batch's cursor is done; each batch restarts at `start`, which
 * the previous batch emptied.
 */
import type { Key } from 'lmdb';
import type { BinaryDb } from './env.ts';

const BATCH = 4096;

export interface RemovedRange {
  keys: number;
  bytes: number;
}

/**
 * Must run inside `transactionSync`. `onRemove` sees each removed key (for the
 * changelog). With `countBytes` false the values are not read, and `bytes` is
 * 0: reading a value copies it out of the map and faults in every page of it,
 * which for the outbox's large chunks (overflow pages) is most of what a
 * delete would cost and most of the file pages the process would hold.
 */
export function removeRange(db: BinaryDb, start: Key, end: Key, onRemove?: (key: Key) => void, countBytes = true): RemovedRange {
  let keys = 0;
  let bytes = 0;
  const batch: Key[] = [];
  for (;;) {
    if (countBytes) {
      for (const { key, value } of db.getRange({ start, end, limit: BATCH })) {
        batch.push(key);
        bytes += value.length;
      }
    } else {
      for (const key of db.getKeys({ start, end, limit: BATCH })) batch.push(key);
    }
    if (batch.length === 0) return { keys, bytes };
    for (let i = 0; i < batch.length; i++) {
      db.removeSync(batch[i]);
      onRemove?.(batch[i]);
    }
    keys += batch.length;
    const full = batch.length === BATCH;
    batch.length = 0;
    if (!full) return { keys, bytes };
  }
}

/**
 * The outbox: output records produced up to a checkpoint but not yet
 * confirmed delivered, so a restarted actor can deliver them again.
 *
 * Stored in the `outbox` db, written by the checkpoint transaction:
 *
 *   key   [actorId, epoch, sinkId, chunkNo]
 *   value msgpack array of up to OUTBOX_CHUNK records
 *
 * Records are chunked so a large epoch becomes several moderate LMDB values
 * instead of one huge overflow value (LMDB must find contiguous free pages
 * for a single large value, which gets slow as the file fragments, and
 * extends the file when it finds none). A caller whose records are large
 * says so with `recordsPerChunk`: the changelog's records are 64 KiB packs,
 * and 512 of them made values of up to 32 MiB, so the 2 M-order catch-up's
 * data file grew all run long (215 MiB, of which 24 MiB state) and each
 * value was encoded in one buffer that size. Key order
 * gives epoch order, then sink id, then chunk order, which is also the order
 * `readOutbox` returns. Acknowledging an epoch deletes every entry with an
 * epoch up to and including it.
 */
import type { BinaryDb } from './env.ts';
import { encodeValue, decodeValue } from './codec.ts';
import { RANGE_END } from './key-order.ts';
import { removeRange, type RemovedRange } from './lmdb-ranges.ts';

export const OUTBOX_CHUNK = 512;

export interface OutboxAppend {
  sinkId: string;
  records: unknown[];
  /** Records per LMDB value (default OUTBOX_CHUNK); 1 for records that are large themselves. */
  recordsPerChunk?: number;
}

export interface OutboxBatch {
  epoch: number;
  sinkId: string;
  records: unknown[];
}

/** Must run inside `transactionSync`. Returns keys and bytes written. */
export function appendOutbox(db: BinaryDb, actorId: string, epoch: number, appends: readonly OutboxAppend[]): RemovedRange {
  let keys = 0;
  let bytes = 0;
  const key: [string, number, string, number] = [actorId, epoch, '', 0];
  // Epochs only grow (PartitionStore.commit checks), so (epoch, sink) starts
  // empty; a sink id repeated within one commit continues its numbering.
  const chunkNo = new Map<string, number>();
  for (const { sinkId, records, recordsPerChunk } of appends) {
    if (records.length === 0) continue;
    const per = Math.max(1, recordsPerChunk ?? OUTBOX_CHUNK);
    key[2] = sinkId;
    key[3] = chunkNo.get(sinkId) ?? 0;
    for (let i = 0; i < records.length; i += per) {
      const chunk = i === 0 && records.length <= per ? records : records.slice(i, i + per);
      const buf = encodeValue(chunk);
      db.putSync(key, buf);
      bytes += buf.length;
      keys++;
      key[3]++;
    }
    chunkNo.set(sinkId, key[3]);
  }
  return { keys, bytes };
}

/** Must run inside `transactionSync`. Deletes all entries with epoch <= upTo. */
export function ackOutbox(db: BinaryDb, actorId: string, upTo: number): RemovedRange {
  // Keys only: an acknowledged chunk is never read again (lmdb-ranges.ts).
  return removeRange(db, [actorId], [actorId, upTo, RANGE_END], undefined, false);
}

/** All unacknowledged batches, by epoch then sink id; chunks are joined. */
export function readOutbox(db: BinaryDb, actorId: string): OutboxBatch[] {
  const out: OutboxBatch[] = [];
  let last: OutboxBatch | undefined;
  for (const { key, value } of db.getRange({ start: [actorId], end: [actorId, RANGE_END] })) {
    const [, epoch, sinkId] = key as [string, number, string, number];
    const records = decodeValue<unknown[]>(value);
    if (last !== undefined && last.epoch === epoch && last.sinkId === sinkId) {
      for (const r of records) last.records.push(r);
    } else {
      last = { epoch, sinkId, records };
      out.push(last);
    }
  }
  return out;
}

/** Must run inside `transactionSync`. */
export function dropOutbox(db: BinaryDb, actorId: string): RemovedRange {
  return removeRange(db, [actorId], [actorId, RANGE_END], undefined, false);
}

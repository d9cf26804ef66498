/**
 * Which keys an interval join must check when an event-time bucket's timer
 * fires (interval-join.ts): one list of keys per bucket, not one state entry
 * per key.
 *
 * Why a list: every state entry written is a changelog record at the next
 * checkpoint, and a delete is another. With an entry per (bucket, key),
 * scheduling a record's eviction cost one put and, when the bucket fired,
 * one delete: half of orders-payments' changelog records, each about 10 µs
 * of a worker (bench/notes/35-catchup-memory.md). A bucket's list is one
 * entry, written once per checkpoint however many keys joined it, and
 * deleted once.
 *
 * State, per side (`L` or `R`):
 *
 *   `due<side>`        value state, bucket end -> [sealed chunks, keys of the open chunk]
 *   `dueSealed<side>`  map state, (bucket end, chunk no) -> keys
 *   `bucket<side>`     map state, (bucket end, key) -> 1: the per-key form
 *                      that state written before this file held; read and
 *                      cleared when its bucket fires, never written
 *
 * A bucket's open chunk is sealed at DUE_CHUNK keys or DUE_CHUNK_BYTES of
 * keys (a key may be up to 2 KB), so no value grows with the event rate:
 * each stays far below Kafka's 1 MiB record limit as a changelog record,
 * and a checkpoint re-encodes at most one chunk of a bucket that is still
 * filling. A key is listed once per chunk: the keys of an open chunk are
 * also in a Set, kept beside the list while the list is in memory, so a
 * hot key (many records in one second) does not make its bucket's eviction
 * check it once per record. The Set is built from the list it belongs to,
 * so it never claims a key the list lacks (after a restart, a restore or an
 * eviction from the cache, the list is a new array and gets a new Set). A
 * key in two chunks is checked twice: harmless, as eviction checks each of
 * the key's records against the watermark.
 */
import type { Key, MapState, OperatorContext, ValueState } from '../contracts/operator.ts';

/** Keys per chunk: about 40 KB of order ids. */
export const DUE_CHUNK = 1024;
/** Bytes of keys per chunk (strings counted by their length, other keys by 16): long keys seal it sooner. */
export const DUE_CHUNK_BYTES = 64 * 1024;

/** [sealed chunks, keys of the open chunk, their bytes as keyBytes counts them]. */
type Open = [sealed: number, keys: Key[], bytes?: number];

function keyBytes(k: Key): number {
  return typeof k === 'string' ? k.length : 16;
}

export class DueBuckets {
  private open!: ValueState<Open>;
  private sealed!: MapState<Key[]>;
  private legacy!: MapState<1>;
  /** The keys of each open chunk in memory, by its list: dropped with the list. */
  private readonly listed = new WeakMap<Key[], Set<Key>>();

  constructor(private readonly side: 'L' | 'R') {}

  start(ctx: OperatorContext<unknown>): void {
    this.open = ctx.valueState<Open>(`due${this.side}`);
    this.sealed = ctx.mapState<Key[]>(`dueSealed${this.side}`);
    this.legacy = ctx.mapState<1>(`bucket${this.side}`);
  }

  /** Lists `key` in the bucket ending at `end`. Returns true when the bucket is new: its timer is not registered yet. */
  add(end: number, key: Key): boolean {
    const v = this.open.get(end);
    if (v === undefined) {
      const keys = [key];
      this.listed.set(keys, new Set(keys));
      this.open.put(end, [0, keys, keyBytes(key)]);
      return true;
    }
    const keys = v[1];
    let set = this.listed.get(keys);
    if (set === undefined) this.listed.set(keys, (set = new Set(keys)));
    if (set.has(key)) return false;
    keys.push(key);
    set.add(key);
    // Lists written before the byte count was kept: counted once, here.
    const bytes = (v[2] ?? keys.reduce((n: number, k) => n + keyBytes(k), 0) - keyBytes(key)) + keyBytes(key);
    if (keys.length >= DUE_CHUNK || bytes >= DUE_CHUNK_BYTES) {
      // The chunk is handed to the map as it is and never touched again.
      this.sealed.put(end, v[0], keys);
      v[0]++;
      v[1] = [];
      v[2] = 0;
    } else v[2] = bytes;
    this.open.put(end, v);
    return false;
  }

  /** The keys listed in the bucket ending at `end`; the bucket is deleted. */
  take(end: number): Key[] {
    const out: Key[] = [];
    const v = this.open.get(end);
    if (v !== undefined) {
      for (let i = 0; i < v[0]; i++) {
        const chunk = this.sealed.get(end, i);
        if (chunk !== undefined) for (const k of chunk) out.push(k);
      }
      for (const k of v[1]) out.push(k);
      this.open.delete(end);
      if (v[0] > 0) this.sealed.clear(end);
    }
    const old = this.legacy.keys(end);
    if (old.length > 0) {
      for (const k of old) out.push(k);
      this.legacy.clear(end);
    }
    return out;
  }
}

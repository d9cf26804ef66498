/**
 * The bounded in-memory cache of state entries of one PartitionStore.
 *
 * Every cached (state, key[, field]) slot is a CacheEntry. Clean entries (equal
 * to what LMDB holds, including "known absent") sit on an LRU list and may be
 * evicted at any time. Dirty entries (written since the last checkpoint, a
 * delete being a dirty entry with value undefined) are off the LRU list, on
 * the dirty list, and are never evicted: the only way a dirty value reaches
 * LMDB is the checkpoint transaction, which keeps checkpoints atomic. So the
 * cache holds at most `maxEntries` entries plus however many are dirty, and the
 * engine learns from `PartitionStore.needsCheckpoint()` when to checkpoint so
 * dirty entries become clean and evictable again.
 *
 * The list is kept in insertion order with a second chance (CLOCK's rule):
 * a hit only sets the entry's `ref` bit, and eviction moves a referenced
 * tail entry back to the head (clearing the bit) instead of evicting it. A
 * hit used to relink the entry at the head, which writes three other entries
 * scattered over the heap (cache misses on every hit of a 100 k-entry cache).
 * With the dirty entries off the list there is no sweep over them: each
 * eviction step either evicts or clears a bit a hit set, so eviction stays
 * O(1) amortized. Entry objects are recycled through a small free list so
 * a cache running at its bound does not allocate per miss.
 */
import type { StateKey } from './key-order.ts';

/** Who indexes an entry: told when the cache evicts it. */
export interface EntryOwner {
  evicted(entry: CacheEntry): void;
}

export class CacheEntry {
  owner: EntryOwner | null = null;
  key: StateKey = 0;
  /** Map state field, undefined for value state. */
  field: StateKey | undefined = undefined;
  /** Decoded value; undefined means absent (clean) or delete pending (dirty). */
  value: unknown = undefined;
  dirty = false;
  /** Used since it was (re)linked on the list: it gets a second chance before eviction. */
  ref = false;
  /** Bytes this slot occupies in LMDB as of the last commit: 0 absent, -1 unknown. */
  storedSize = -1;
  /** Size written by the commit in progress; becomes storedSize once it commits. */
  pendingSize = -1;
  prev: CacheEntry | null = null;
  next: CacheEntry | null = null;
}

const FREE_LIST_MAX = 1024;

export class StateCache {
  readonly maxEntries: number;
  /** Most recently linked clean entry (created, cleaned, or given its second chance). */
  private head: CacheEntry | null = null;
  /** Least recently linked clean entry: next in line for eviction. */
  private tail: CacheEntry | null = null;
  private cleanCount = 0;
  private readonly dirtyList: CacheEntry[] = [];
  private readonly free: CacheEntry[] = [];

  constructor(maxEntries: number) {
    this.maxEntries = Math.max(0, Math.floor(maxEntries));
  }

  get size(): number {
    return this.cleanCount + this.dirtyList.length;
  }

  get dirtyCount(): number {
    return this.dirtyList.length;
  }

  /** The dirty entries in the order they became dirty. Read-only for callers. */
  get dirty(): readonly CacheEntry[] {
    return this.dirtyList;
  }

  /**
   * Creates an entry; the caller indexes it under its owner. Room is made
   * before the entry exists, so the new entry itself is never the victim
   * (other entries may be: do not hold entry references across this call).
   */
  create(owner: EntryOwner, key: StateKey, field: StateKey | undefined, value: unknown, dirty: boolean, storedSize: number): CacheEntry {
    this.evictOverflow(1);
    const e = this.free.pop() ?? new CacheEntry();
    e.owner = owner;
    e.key = key;
    e.field = field;
    e.value = value;
    e.storedSize = storedSize;
    e.pendingSize = -1;
    e.ref = false;
    if (dirty) {
      e.dirty = true;
      this.dirtyList.push(e);
    } else {
      e.dirty = false;
      this.linkHead(e);
    }
    return e;
  }

  /** Marks a cache hit: the entry survives its next turn at the tail. */
  touch(e: CacheEntry): void {
    e.ref = true;
  }

  /** Sets a new value (undefined = delete) and makes the entry dirty. */
  write(e: CacheEntry, value: unknown): void {
    e.value = value;
    if (e.dirty) return;
    this.unlink(e);
    e.dirty = true;
    this.dirtyList.push(e);
  }

  /**
   * After the checkpoint transaction committed: every dirty entry is now what
   * LMDB holds, so it becomes clean (MRU) and the cache shrinks to its bound.
   * A delete leaves the cache instead: LMDB no longer holds the slot, and the
   * store's key filter (stored-keys.ts) was told so by the same commit, so a
   * later read learns "absent" without the entry. Kept, deleted entries filled
   * the cache: a join's pairs are written and deleted, and in the
   * orders-payments catch-up 100,000 entries per actor were cached against
   * some 30,000 keys stored, most of them deletes (their heap and their
   * eviction for nothing).
   */
  markAllClean(): void {
    const list = this.dirtyList;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      e.dirty = false;
      if (e.value === undefined) {
        this.release(e);
        continue;
      }
      e.storedSize = e.pendingSize;
      e.pendingSize = -1;
      e.ref = false;
      this.linkHead(e);
    }
    list.length = 0;
    this.evictOverflow(0);
  }

  /** Forgets everything (after drop()). Owners are not told; they reset themselves. */
  reset(): void {
    this.head = this.tail = null;
    this.cleanCount = 0;
    this.dirtyList.length = 0;
  }

  /** Evicts clean entries from the tail (referenced ones get a second chance) until `extra` more would still fit the bound. */
  private evictOverflow(extra: number): void {
    while (this.cleanCount + this.dirtyList.length + extra > this.maxEntries && this.tail !== null) {
      const e = this.tail;
      this.unlink(e);
      if (e.ref) {
        e.ref = false;
        this.linkHead(e);
        continue;
      }
      this.release(e);
    }
  }

  /** The entry leaves the cache (it is off both lists): its owner forgets it, and the object is recycled. */
  private release(e: CacheEntry): void {
    const owner = e.owner;
    e.owner = null;
    e.value = undefined;
    owner?.evicted(e);
    if (this.free.length < FREE_LIST_MAX) this.free.push(e);
  }

  private linkHead(e: CacheEntry): void {
    e.prev = null;
    e.next = this.head;
    if (this.head !== null) this.head.prev = e;
    this.head = e;
    if (this.tail === null) this.tail = e;
    this.cleanCount++;
  }

  private unlink(e: CacheEntry): void {
    if (e.prev !== null) e.prev.next = e.next;
    else this.head = e.next;
    if (e.next !== null) e.next.prev = e.prev;
    else this.tail = e.prev;
    e.prev = e.next = null;
    this.cleanCount--;
  }
}

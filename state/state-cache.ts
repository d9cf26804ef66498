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
 * LRU rather than CLOCK because it needs no sweeps: with the dirty entries
 * off the list, eviction is always O(1) from the tail, even when almost
 * everything is dirty. Entry objects are recycled through a small free list so
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
  /** Most recently used clean entry. */
  private head: CacheEntry | null = null;
  /** Least recently used clean entry: next to be evicted. */
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
    if (dirty) {
      e.dirty = true;
      this.dirtyList.push(e);
    } else {
      e.dirty = false;
      this.linkHead(e);
    }
    return e;
  }

  /** Marks a cache hit: a clean entry moves to the MRU end. */
  touch(e: CacheEntry): void {
    if (e.dirty || this.head === e) return;
    this.unlink(e);
    this.linkHead(e);
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
   */
  markAllClean(): void {
    const list = this.dirtyList;
    for (let i = 0; i < list.length; i++) {
      const e = list[i];
      e.dirty = false;
      e.storedSize = e.pendingSize;
      e.pendingSize = -1;
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

  /** Evicts clean LRU entries until `extra` more would still fit the bound. */
  private evictOverflow(extra: number): void {
    while (this.cleanCount + this.dirtyList.length + extra > this.maxEntries && this.tail !== null) {
      const e = this.tail;
      this.unlink(e);
      const owner = e.owner;
      e.owner = null;
      e.value = undefined;
      owner?.evicted(e);
      if (this.free.length < FREE_LIST_MAX) this.free.push(e);
    }
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

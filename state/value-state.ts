/**
 * ValueState: one value per key, for one (operator, state name) of one actor.
 * LMDB key: [actorId, operator, stateName, key] (see state/env.ts).
 *
 * Reads hit the cache, else LMDB (`getBinaryFast` + decode) and are cached,
 * absent keys included, so a key costs one LMDB lookup, not one per record;
 * a first-seen key costs none: the store's key filter (state/stored-keys.ts)
 * knows LMDB does not hold it. Writes only touch the cache; the checkpoint writes them out.
 * Values are held by reference until the checkpoint encodes them: mutate a
 * value only if you `put` it again (mutating without put is not persisted on
 * eviction paths and makes cached and stored state diverge).
 */
import type { StateKey } from './key-order.ts';
import { checkKey } from './key-order.ts';
import type { CacheEntry } from './state-cache.ts';
import { decodeValue } from './codec.ts';
import type { StateContext, StoredOwner } from './state-context.ts';
import { checkKeySize } from './state-context.ts';
import { stateSeed } from './key-filter.ts';

export interface ValueState<T> {
  get(key: StateKey): T | undefined;
  /** Stores a value; `undefined` deletes. */
  put(key: StateKey, value: T): void;
  delete(key: StateKey): void;
}

export class ValueStateHandle<T> implements ValueState<T>, StoredOwner {
  readonly operator: string;
  readonly name: string;
  readonly seed: number;
  private readonly ctx: StateContext;
  private readonly entries = new Map<StateKey, CacheEntry>();
  // Reused for every LMDB access: lmdb-js encodes the key synchronously.
  private readonly scratch: [string, string, string, StateKey];
  private readonly prefixBytes: number;
  // The last key read and what the read found, so that a write right after it (read-modify-
  // write, the usual pattern) skips a second lookup in a Map of up to the cache's size. An
  // undefined lastEntry with lastKey set: the key filter ruled the key out, it is not stored.
  // Cleared when that entry is evicted (entries are recycled) and on reset.
  private lastKey: StateKey | undefined = undefined;
  private lastEntry: CacheEntry | undefined = undefined;

  constructor(ctx: StateContext, operator: string, name: string) {
    this.ctx = ctx;
    this.operator = operator;
    this.name = name;
    this.seed = stateSeed(operator, name);
    this.scratch = [ctx.actorId, operator, name, 0];
    this.prefixBytes = ctx.prefixBytes(operator, name);
  }

  get(key: StateKey): T | undefined {
    const k = checkKey(key);
    const e = this.entries.get(k);
    this.lastKey = k;
    this.lastEntry = e;
    if (e !== undefined) {
      this.ctx.cache.touch(e);
      return e.value as T | undefined;
    }
    checkKeySize(this.prefixBytes, k, undefined);
    // Ruled out by the key filter: absent, and not cached either, since asking the filter
    // again costs less than a cache entry (a Map insert now, an eviction later, and a
    // slot taken from the live keys).
    if (!this.ctx.storedKeys.mayBeStored(this.seed, k)) return undefined;
    this.lastKey = undefined; // create() below may evict, and recycle, any entry
    this.scratch[3] = k;
    const buf = this.ctx.db.getBinaryFast(this.scratch);
    let value: T | undefined;
    let size = 0;
    if (buf !== undefined) {
      size = buf.length;
      value = decodeValue<T>(buf);
    }
    const created = this.ctx.cache.create(this, k, undefined, value, false, size);
    this.entries.set(k, created);
    this.lastKey = k;
    this.lastEntry = created;
    return value;
  }

  put(key: StateKey, value: T): void {
    this.write(checkKey(key), value);
  }

  delete(key: StateKey): void {
    this.write(checkKey(key), undefined);
  }

  private write(k: StateKey, value: unknown): void {
    const known = k === this.lastKey;
    const e = known ? this.lastEntry : this.entries.get(k);
    if (e !== undefined) {
      this.ctx.cache.write(e, value);
      return;
    }
    checkKeySize(this.prefixBytes, k, undefined);
    // Just ruled out by the filter: stored size 0, the commit need not look it up.
    this.lastKey = undefined; // create() may evict, and recycle, any entry
    const created = this.ctx.cache.create(this, k, undefined, value, true, known ? 0 : -1);
    this.entries.set(k, created);
    this.lastKey = k;
    this.lastEntry = created;
  }

  evicted(e: CacheEntry): void {
    this.entries.delete(e.key);
    if (e === this.lastEntry) {
      this.lastKey = undefined;
      this.lastEntry = undefined;
    }
  }

  lmdbKey(e: CacheEntry): [string, string, string, StateKey] {
    this.scratch[3] = e.key;
    return this.scratch;
  }

  /** Forgets all cached entries (the store reset its cache, e.g. after drop()). */
  reset(): void {
    this.entries.clear();
    this.lastKey = undefined;
    this.lastEntry = undefined;
  }
}

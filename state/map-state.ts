/**
 * MapState: per key, a map of fields to values, for one (operator, state name)
 * of one actor. LMDB key: [actorId, operator, stateName, key, field], so one
 * key's fields are one contiguous, field-ordered range (see state/env.ts).
 *
 * Cached fields hang off a KeySlot per key. `clear(key)` does not enumerate
 * LMDB: it marks the slot cleared, which makes reads of uncached fields answer
 * "absent" without LMDB, and the checkpoint deletes the key's whole range
 * before writing the slot's dirty fields. A cleared slot stays in memory until
 * that checkpoint, whatever the cache bound says.
 *
 * `entries` / `keys` read the stored range and overlay the slot's dirty fields;
 * they do not populate the cache (a scan should not flush the hot set).
 */
import type { Key } from 'lmdb';
import type { StateKey } from './key-order.ts';
import { checkKey, compareStateKeys, RANGE_END } from './key-order.ts';
import type { CacheEntry } from './state-cache.ts';
import { decodeValue } from './codec.ts';
import type { StateContext, StoredOwner } from './state-context.ts';
import { checkKeySize } from './state-context.ts';
import { stateSeed } from './key-filter.ts';

export interface MapState<V> {
  get(key: StateKey, field: StateKey): V | undefined;
  /** Stores a field; `undefined` deletes it. */
  put(key: StateKey, field: StateKey, value: V): void;
  delete(key: StateKey, field: StateKey): void;
  /** All fields of `key` with their values, ordered by field (numbers first). */
  entries(key: StateKey): Array<[StateKey, V]>;
  /** All fields of `key`, ordered as in `entries`. */
  keys(key: StateKey): StateKey[];
  /** Deletes every field of `key`. */
  clear(key: StateKey): void;
}

/** The cached fields of one key. */
export class KeySlot implements StoredOwner {
  readonly handle: MapStateHandle<unknown>;
  readonly key: StateKey;
  readonly fields = new Map<StateKey, CacheEntry>();
  /** clear(key) happened since the last checkpoint. */
  cleared = false;

  constructor(handle: MapStateHandle<unknown>, key: StateKey) {
    this.handle = handle;
    this.key = key;
  }

  get seed(): number {
    return this.handle.seed;
  }

  evicted(e: CacheEntry): void {
    this.fields.delete(e.field as StateKey);
    if (this.fields.size === 0 && !this.cleared) this.handle.dropSlot(this);
  }

  lmdbKey(e: CacheEntry): Key {
    return this.handle.fieldKey(this.key, e.field as StateKey);
  }

  /** The LMDB range [start, end) holding all stored fields of this key. */
  range(): { start: Key; end: Key } {
    return this.handle.keyRange(this.key);
  }

  /** Called after the checkpoint that executed the clear committed. */
  clearCommitted(): void {
    this.cleared = false;
    if (this.fields.size === 0) this.handle.dropSlot(this);
  }
}

export class MapStateHandle<V> implements MapState<V> {
  readonly operator: string;
  readonly name: string;
  readonly seed: number;
  private readonly ctx: StateContext;
  private readonly slots = new Map<StateKey, KeySlot>();
  private readonly scratch: [string, string, string, StateKey, StateKey];
  private readonly prefixBytes: number;
  private readonly onClear: (slot: KeySlot) => void;

  constructor(ctx: StateContext, operator: string, name: string, onClear: (slot: KeySlot) => void) {
    this.ctx = ctx;
    this.operator = operator;
    this.name = name;
    this.onClear = onClear;
    this.seed = stateSeed(operator, name);
    this.scratch = [ctx.actorId, operator, name, 0, 0];
    this.prefixBytes = ctx.prefixBytes(operator, name);
  }

  get(key: StateKey, field: StateKey): V | undefined {
    const k = checkKey(key);
    const f = checkKey(field, 'field');
    let slot = this.slots.get(k);
    const e = slot?.fields.get(f);
    if (e !== undefined) {
      this.ctx.cache.touch(e);
      return e.value as V | undefined;
    }
    let value: V | undefined;
    let size = 0;
    if (slot === undefined || !slot.cleared) {
      checkKeySize(this.prefixBytes, k, f);
      // A field the key filter rules out is absent without asking LMDB, and not cached (as in value-state.ts).
      if (!this.ctx.storedKeys.mayBeStored(this.seed, k, f)) return undefined;
      const buf = this.ctx.db.getBinaryFast(this.fieldKey(k, f));
      if (buf !== undefined) {
        size = buf.length;
        value = decodeValue<V>(buf);
      }
    }
    // create() may evict, and evicting a slot's last field drops the slot.
    const created = this.ctx.cache.create(slot ?? this.placeholder, k, f, value, false, size);
    slot = this.slotFor(k);
    created.owner = slot;
    slot.fields.set(f, created);
    return value;
  }

  put(key: StateKey, field: StateKey, value: V): void {
    this.write(checkKey(key), checkKey(field, 'field'), value);
  }

  delete(key: StateKey, field: StateKey): void {
    this.write(checkKey(key), checkKey(field, 'field'), undefined);
  }

  entries(key: StateKey): Array<[StateKey, V]> {
    const k = checkKey(key);
    const slot = this.slots.get(k);
    const out: Array<[StateKey, V]> = [];
    if (slot === undefined || !slot.cleared) {
      for (const { key: lk, value } of this.ctx.db.getRange(this.keyRange(k))) {
        out.push([(lk as StateKey[])[4], decodeValue<V>(value)]);
      }
    }
    if (slot === undefined || !hasDirty(slot)) return out;
    const merged = new Map<StateKey, V>(out);
    for (const e of slot.fields.values()) {
      if (!e.dirty) continue;
      if (e.value === undefined) merged.delete(e.field as StateKey);
      else merged.set(e.field as StateKey, e.value as V);
    }
    return [...merged].sort((a, b) => compareStateKeys(a[0], b[0]));
  }

  keys(key: StateKey): StateKey[] {
    const k = checkKey(key);
    const slot = this.slots.get(k);
    const out: StateKey[] = [];
    if (slot === undefined || !slot.cleared) {
      for (const lk of this.ctx.db.getKeys(this.keyRange(k))) out.push((lk as StateKey[])[4]);
    }
    if (slot === undefined || !hasDirty(slot)) return out;
    const merged = new Set<StateKey>(out);
    for (const e of slot.fields.values()) {
      if (!e.dirty) continue;
      if (e.value === undefined) merged.delete(e.field as StateKey);
      else merged.add(e.field as StateKey);
    }
    return [...merged].sort(compareStateKeys);
  }

  clear(key: StateKey): void {
    const k = checkKey(key);
    checkKeySize(this.prefixBytes, k, undefined);
    const slot = this.slotFor(k);
    if (!slot.cleared) {
      slot.cleared = true;
      this.onClear(slot);
    }
    // Once the checkpoint's range delete ran every field is absent in LMDB;
    // clean entries may say so already (reads of a cleared slot never look
    // at LMDB), dirty ones become pending deletes.
    for (const e of slot.fields.values()) {
      e.storedSize = 0;
      e.value = undefined;
    }
  }

  private write(k: StateKey, f: StateKey, value: unknown): void {
    let slot = this.slots.get(k);
    const e = slot?.fields.get(f);
    if (e !== undefined) {
      this.ctx.cache.write(e, value);
      return;
    }
    checkKeySize(this.prefixBytes, k, f);
    const stored = slot !== undefined && slot.cleared ? 0 : -1;
    const created = this.ctx.cache.create(slot ?? this.placeholder, k, f, value, true, stored);
    slot = this.slotFor(k);
    created.owner = slot;
    slot.fields.set(f, created);
  }

  private slotFor(k: StateKey): KeySlot {
    let slot = this.slots.get(k);
    if (slot === undefined) {
      slot = new KeySlot(this as MapStateHandle<unknown>, k);
      this.slots.set(k, slot);
    }
    return slot;
  }

  // Owner of an entry for the instant between create() and indexing it.
  private readonly placeholder: StoredOwner = {
    seed: 0,
    evicted: () => undefined,
    lmdbKey: () => [],
  };

  dropSlot(slot: KeySlot): void {
    if (this.slots.get(slot.key) === slot) this.slots.delete(slot.key);
  }

  fieldKey(k: StateKey, f: StateKey): Key {
    this.scratch[3] = k;
    this.scratch[4] = f;
    return this.scratch;
  }

  keyRange(k: StateKey): { start: Key; end: Key } {
    const { actorId } = this.ctx;
    return { start: [actorId, this.operator, this.name, k], end: [actorId, this.operator, this.name, k, RANGE_END] };
  }

  /** Forgets all cached entries and pending clears (the store reset, e.g. after drop()). */
  reset(): void {
    this.slots.clear();
  }
}

function hasDirty(slot: KeySlot): boolean {
  if (slot.cleared) return true;
  for (const e of slot.fields.values()) if (e.dirty) return true;
  return false;
}

/**
 * What state handles share with their PartitionStore, and the key size check.
 *
 * LMDB keys are limited (lmdb-js: 1978 bytes with the default page size) and
 * an oversized key would only fail inside the checkpoint transaction, where it
 * would abort every later checkpoint too. So handles check sizes when a key is
 * first used, with a length bound that costs one comparison for normal keys.
 */
import type { Key } from 'lmdb';
import type { BinaryDb } from './env.ts';
import type { StateCache, EntryOwner, CacheEntry } from './state-cache.ts';
import type { StateKey } from './key-order.ts';
import type { StoredKeys } from './stored-keys.ts';
import { SluiceError, ErrorCodes } from '../engine/errors.ts';

export interface StateContext {
  readonly actorId: string;
  readonly db: BinaryDb;
  readonly cache: StateCache;
  /** Which slots LMDB may hold: a miss on any other answers "absent" without a read. */
  readonly storedKeys: StoredKeys;
  /** Encoded bytes of [actorId, operator, name] plus the separator before the key. */
  prefixBytes(operator: string, name: string): number;
}

/** An entry owner that can name its entries' LMDB keys (for the checkpoint). */
export interface StoredOwner extends EntryOwner {
  /** The state's seed in StoredKeys (key-filter.ts stateSeed of its operator and name). */
  readonly seed: number;
  /** Returns a reused array: encode it before asking for the next key. */
  lmdbKey(e: CacheEntry): Key;
}

export const MAX_KEY_BYTES = 1978;

/** Bytes of one element inside an ordered-binary array key. */
export function encodedElementBytes(k: StateKey): number {
  if (typeof k === 'number') return 9;
  // Strings starting below char 28 (or empty) get a one-byte type prefix.
  const prefix = k.length === 0 || k.charCodeAt(0) < 28 ? 1 : 0;
  if (k.length >= 0x40) return prefix + Buffer.byteLength(k);
  let n = prefix;
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i);
    if (c <= 4) n += 2; // escaped control byte
    else if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if ((c & 0xfc00) === 0xd800 && (k.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

export function checkKeySize(prefixBytes: number, key: StateKey, field: StateKey | undefined): void {
  // Upper bound: at most 3 bytes per UTF-16 unit plus a prefix byte.
  let bound = prefixBytes + (typeof key === 'number' ? 9 : key.length * 3 + 1);
  if (field !== undefined) bound += 1 + (typeof field === 'number' ? 9 : field.length * 3 + 1);
  if (bound <= MAX_KEY_BYTES) return;
  let exact = prefixBytes + encodedElementBytes(key);
  if (field !== undefined) exact += 1 + encodedElementBytes(field);
  if (exact > MAX_KEY_BYTES) {
    throw new SluiceError(
      ErrorCodes.STATE,
      `state key too large: ${exact} bytes encoded (limit ${MAX_KEY_BYTES} including actor, operator and state name)`,
    );
  }
}

/**
 * State keys and their order.
 *
 * Keys are strings or numbers and end up as elements of lmdb-js ordered-binary
 * array keys. LMDB then orders them: every number before every string,
 * numbers numerically, strings by UTF-8 bytes (= Unicode code point order).
 * In-memory structures that must agree with LMDB (timer queues, map entry
 * listings that merge cached and stored fields) compare with
 * `compareStateKeys`, which reproduces that order without encoding.
 */
import { SluiceError, ErrorCodes } from '../engine/errors.ts';

export type StateKey = string | number;

/**
 * Upper bound for a key range: appended as the last array element it sorts
 * after any string or number element (0xff never occurs in UTF-8, and numbers
 * start below 0x20), so [a, b, RANGE_END] ends the range of all keys that
 * start with the elements a, b.
 */
export const RANGE_END = new Uint8Array([0xff]);

/**
 * Validates a user key and normalises -0 to 0 (a JS Map treats them as one
 * key, ordered-binary encodes them differently). Returns the key to use.
 */
export function checkKey(key: StateKey, what = 'key'): StateKey {
  if (typeof key === 'number') {
    if (key !== key) throw new SluiceError(ErrorCodes.STATE, `${what} must not be NaN`);
    return key === 0 ? 0 : key;
  }
  if (typeof key !== 'string') {
    throw new SluiceError(ErrorCodes.STATE, `${what} must be a string or number, got ${typeof key}`);
  }
  return key;
}

/** Orders two keys exactly as LMDB orders them inside ordered-binary arrays. */
export function compareStateKeys(a: StateKey, b: StateKey): number {
  if (typeof a === 'number') {
    if (typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
    return -1;
  }
  if (typeof b === 'number') return 1;
  if (a === b) return 0;
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // UTF-16 code units order surrogates (astral code points) below
      // U+E000..U+FFFF; code point order puts them above.
      if (x >= 0xd800 && y >= 0xd800) return surrogateRank(x) - surrogateRank(y);
      return x - y;
    }
  }
  return a.length - b.length;
}

function surrogateRank(unit: number): number {
  return unit <= 0xdfff ? unit + 0x2000 : unit - 0x800;
}

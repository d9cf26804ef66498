/**
 * A cuckoo filter of state slots: "is this (state, key[, field]) possibly
 * stored in LMDB?" answered from memory. A "no" is certain, a "yes" may be
 * wrong about 1 time in 8,000 (16-bit fingerprints, buckets of 4), and it
 * then costs what it cost before: an LMDB read.
 *
 * Why: a record with a first-seen key (every order of the orders/payments
 * join) misses the state cache, and each miss was an LMDB `getBinaryFast`
 * that finds nothing, 1.5-5 µs with its ordered-binary key encoding: 13-18 %
 * of a worker's CPU in that job's profile (bench/notes/30-kafka.md).
 *
 * Cuckoo rather than Bloom because keys come and go (the join deletes a key
 * once its records time out): a fingerprint can be removed, so the filter
 * does not fill up with dead keys and need rebuilding from LMDB. Removing is
 * only safe for a slot that was added, which the store guarantees (it removes
 * only slots it knows are stored). 2.1 bytes per slot at the filter's load.
 *
 * Hashing: two independent 32-bit hashes of the slot (state seed, key, field):
 * one picks the bucket, the other gives the fingerprint. Strings hash by
 * UTF-16 code units and numbers by their float64 bits, with a different
 * start, so 1 and "1" (distinct LMDB keys) hash apart.
 */
import type { StateKey } from './key-order.ts';

const SLOTS = 4;
const MAX_KICKS = 500;
/** Fill ratio above which add() asks for a bigger filter: insertion gets slow and may fail past ~0.95. */
const MAX_LOAD = 0.9;

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

// The two hashes of the last hashSlot() call: module scratch, so hashing allocates nothing.
let H1 = 0;
let H2 = 0;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function mixElement(k: StateKey): void {
  let a = H1;
  let b = H2;
  if (typeof k === 'number') {
    f64[0] = k;
    a = Math.imul(a ^ 0x6e756d62, 0x5bd1e995);
    b = Math.imul(b ^ 0x6e756d62, 0x01000193);
    a = Math.imul(a ^ u32[0], 0x5bd1e995);
    b = Math.imul(b ^ u32[0], 0x01000193);
    a = Math.imul(a ^ u32[1], 0x5bd1e995);
    b = Math.imul(b ^ u32[1], 0x01000193);
  } else {
    a = Math.imul(a ^ (0x73747200 + k.length), 0x5bd1e995);
    b = Math.imul(b ^ (0x73747200 + k.length), 0x01000193);
    for (let i = 0; i < k.length; i++) {
      const c = k.charCodeAt(i);
      a = Math.imul(a ^ c, 0x5bd1e995);
      a ^= a >>> 15;
      b = Math.imul(b ^ c, 0x01000193);
    }
  }
  H1 = a;
  H2 = b;
}

/** A state's seed: the hash of its operator and name, computed once per state handle. */
export function stateSeed(operator: string, name: string): number {
  H1 = 0x9747b28c;
  H2 = 0x811c9dc5;
  mixElement(operator);
  mixElement(name);
  return fmix(H1 ^ fmix(H2));
}

function hashSlot(seed: number, key: StateKey, field: StateKey | undefined): void {
  H1 = seed;
  H2 = ~seed;
  mixElement(key);
  if (field !== undefined) mixElement(field);
  H1 = fmix(H1);
  H2 = fmix(H2);
}

function altBucket(i: number, fp: number, mask: number): number {
  return (i ^ Math.imul(fp, 0x5bd1e995)) & mask;
}

export class KeyFilter {
  private readonly table: Uint16Array;
  private readonly mask: number;
  private count = 0;
  /** A fingerprint was lost (an insertion failed): the filter can no longer say "no". */
  private lostOne = false;

  /** Room for about `capacity` slots (at least 4,096 fingerprints). */
  constructor(capacity: number) {
    let buckets = 1024;
    while (buckets * SLOTS * MAX_LOAD < capacity) buckets *= 2;
    this.table = new Uint16Array(buckets * SLOTS);
    this.mask = buckets - 1;
  }

  get size(): number {
    return this.count;
  }

  /** Fingerprints it can hold before add() refuses. */
  get capacity(): number {
    return Math.floor(this.table.length * MAX_LOAD);
  }

  /** False only if the slot is certainly not in the filter. */
  mayContain(seed: number, key: StateKey, field?: StateKey): boolean {
    if (this.lostOne) return true;
    hashSlot(seed, key, field);
    const fp = fingerprint(H2);
    const i1 = H1 & this.mask;
    return this.inBucket(i1, fp) || this.inBucket(altBucket(i1, fp, this.mask), fp);
  }

  /**
   * Adds a slot. Returns false when the filter is full or an insertion failed:
   * it then answers "maybe" to everything and must be replaced by a bigger one.
   */
  add(seed: number, key: StateKey, field?: StateKey): boolean {
    if (this.lostOne) return false;
    if (this.count >= this.capacity) {
      this.lostOne = true;
      return false;
    }
    hashSlot(seed, key, field);
    let fp = fingerprint(H2);
    let i = H1 & this.mask;
    if (this.put(i, fp)) return true;
    i = altBucket(i, fp, this.mask);
    if (this.put(i, fp)) return true;
    // Both buckets full: evict a resident to its other bucket, and so on.
    const t = this.table;
    for (let n = 0; n < MAX_KICKS; n++) {
      const s = i * SLOTS + ((n * 7 + fp) & (SLOTS - 1));
      const victim = t[s];
      t[s] = fp;
      fp = victim;
      i = altBucket(i, fp, this.mask);
      if (this.put(i, fp)) return true;
    }
    this.lostOne = true;
    return false;
  }

  /**
   * Removes one copy of a slot's fingerprint. Only for slots that were added:
   * removing one that never was could remove another slot's equal fingerprint.
   */
  remove(seed: number, key: StateKey, field?: StateKey): void {
    if (this.lostOne) return;
    hashSlot(seed, key, field);
    const fp = fingerprint(H2);
    const i1 = H1 & this.mask;
    if (this.take(i1, fp)) return;
    this.take(altBucket(i1, fp, this.mask), fp);
  }

  private inBucket(i: number, fp: number): boolean {
    const t = this.table;
    const s = i * SLOTS;
    return t[s] === fp || t[s + 1] === fp || t[s + 2] === fp || t[s + 3] === fp;
  }

  private put(i: number, fp: number): boolean {
    const t = this.table;
    const s = i * SLOTS;
    for (let j = s; j < s + SLOTS; j++) {
      if (t[j] === 0) {
        t[j] = fp;
        this.count++;
        return true;
      }
    }
    return false;
  }

  private take(i: number, fp: number): boolean {
    const t = this.table;
    const s = i * SLOTS;
    for (let j = s; j < s + SLOTS; j++) {
      if (t[j] === fp) {
        t[j] = 0;
        this.count--;
        return true;
      }
    }
    return false;
  }
}

/** 16 bits, never 0 (0 marks an empty slot). */
function fingerprint(h: number): number {
  const fp = (h ^ (h >>> 16)) & 0xffff;
  return fp === 0 ? 1 : fp;
}

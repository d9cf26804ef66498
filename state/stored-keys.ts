/**
 * StoredKeys: which state slots of one actor LMDB may hold, so that a cache
 * miss on a slot LMDB certainly does not hold (a first-seen key) answers
 * "absent" without a read. A KeyFilter (state/key-filter.ts) over the
 * actor's committed state keys.
 *
 * The invariant: every slot stored in LMDB for this actor is in the filter
 * (the filter is a superset; extra slots only cost a read). It holds because
 * nothing writes an actor's state but its store's commit, which tells this
 * class every slot it stores anew (`added`) and every slot it removes
 * (`removed`), and because the filter is dropped whenever that may not hold:
 *
 *   - built from a scan of the actor's committed keys, started by the first
 *     read that needs it (never inside a commit: `knownAbsent` never builds);
 *   - dropped by `invalidate()` whenever the store forgets its memory (lease
 *     taken, restore from a changelog, drop, close: another writer or a
 *     restore may have written LMDB), and when a commit aborts (its removals
 *     may not have happened);
 *   - dropped when full or an insertion failed, and rebuilt bigger from the
 *     scan.
 *
 * The scan is spread over reads (SCAN_STEP keys per read), so that a build
 * never stalls the worker's thread: one scan of a few million keys takes
 * seconds (300 k keys took 641 ms on this machine, measured in review), and
 * a build follows every rebalance and every doubling of the keys. While it
 * runs, every read answers "may be stored" (an LMDB read, as without a
 * filter). The scan reads one LMDB snapshot, taken when it starts (lmdb-js
 * keeps an iterator's read transaction until it ends); the commits made
 * while it runs are logged and replayed onto the filter when the scan ends,
 * so the filter is the snapshot's keys plus what was added since, minus what
 * was removed since. Commits are synchronous (transactionSync), so no commit
 * is half-visible to the snapshot. A log that outgrows LOG_MAX (commits far
 * ahead of reads) finishes the scan at once, so memory stays bounded.
 *
 * Above MAX_FILTERED_KEYS stored slots there is no filter (filters are sized
 * for twice the keys, 2 bytes a fingerprint over buckets rounded up to a
 * power of two: at most 32 MiB per actor, off the JS heap) and every miss
 * reads LMDB as before; a later reset tries again.
 */
import type { BinaryDb } from './env.ts';
import { KeyFilter, stateSeed } from './key-filter.ts';
import { RANGE_END, type StateKey } from './key-order.ts';

export const MAX_FILTERED_KEYS = 4_000_000;
/** Keys scanned per read while a build runs: about 1 ms of a read's time. */
export const SCAN_STEP = 512;
/** Commits logged during a build before it finishes at once (one slot each: about 100 bytes). */
const LOG_MAX = 100_000;

const ADD = 0;
const REMOVE = 1;

/** A build under way: the filter so far, the snapshot's iterator, and the commits since it started. */
interface Build {
  filter: KeyFilter;
  keys: Iterator<unknown>;
  op: unknown;
  name: unknown;
  seed: number;
  /** Slots committed since the snapshot: [ADD|REMOVE, seed, key, field] flattened. */
  log: unknown[];
}

export class StoredKeys {
  private filter: KeyFilter | undefined;
  /** The last scan found more than MAX_FILTERED_KEYS (or could not fill a filter): none until invalidate(). */
  private tooMany = false;
  private building: Build | undefined;
  /** Scans started (tests and diagnostics). */
  builds = 0;

  constructor(
    private readonly db: BinaryDb,
    private readonly actorId: string,
  ) {}

  /** Read path: false only when LMDB certainly holds no such slot. Advances a build under way, or starts one. */
  mayBeStored(seed: number, key: StateKey, field?: StateKey): boolean {
    let f = this.filter;
    if (f === undefined) {
      if (this.tooMany) return true;
      f = this.step(SCAN_STEP);
      if (f === undefined) return true;
    }
    return f.mayContain(seed, key, field);
  }

  /** A build is under way (tests and diagnostics). */
  get scanning(): boolean {
    return this.building !== undefined;
  }

  /** Commit path: true when the filter certainly excludes the slot; never scans. */
  knownAbsent(seed: number, key: StateKey, field?: StateKey): boolean {
    return this.filter !== undefined && !this.filter.mayContain(seed, key, field);
  }

  /** The commit stored a slot LMDB did not hold. */
  added(seed: number, key: StateKey, field?: StateKey): void {
    if (this.filter !== undefined) {
      if (!this.filter.add(seed, key, field)) this.filter = undefined;
    } else if (this.building !== undefined) this.log(ADD, seed, key, field);
  }

  /** The commit removed a slot LMDB held (and so the filter, or the snapshot of a build, has). */
  removed(seed: number, key: StateKey, field?: StateKey): void {
    if (this.filter !== undefined) this.filter.remove(seed, key, field);
    else if (this.building !== undefined) this.log(REMOVE, seed, key, field);
  }

  /** Forgets the filter and any build under way: the next read rebuilds it from LMDB. */
  invalidate(): void {
    this.filter = undefined;
    this.tooMany = false;
    this.stopBuild();
  }

  private log(op: number, seed: number, key: StateKey, field: StateKey | undefined): void {
    const b = this.building!;
    // Replayed when the scan ends. Not scanned from here, inside the commit's transaction: past
    // LOG_MAX the next read finishes the scan (step()).
    b.log.push(op, seed, key, field);
  }

  /** Scans up to `n` more keys of the build (starting it if none), all of them if its log is full; the filter once complete. */
  private step(n: number): KeyFilter | undefined {
    let b = this.building;
    if (b === undefined) {
      b = this.startBuild();
      if (b === undefined) return undefined;
    }
    if (b.log.length >= 4 * LOG_MAX) n = Infinity;
    for (let i = 0; i < n; i++) {
      const r = b.keys.next();
      if (r.done === true) return this.finishBuild(b);
      const a = r.value as [string, string, string, StateKey, StateKey?];
      // Keys come sorted, so one state's keys are contiguous: one seed per state.
      if (a[1] !== b.op || a[2] !== b.name) {
        b.op = a[1];
        b.name = a[2];
        b.seed = stateSeed(a[1], a[2]);
      }
      if (!b.filter.add(b.seed, a[3], a[4])) return this.failBuild();
    }
    return undefined;
  }

  private startBuild(): Build | undefined {
    const start = [this.actorId];
    const end = [this.actorId, RANGE_END];
    // Two option objects: lmdb-js marks the one getKeysCount takes as count-only.
    const n = this.db.getKeysCount({ start, end });
    if (n > MAX_FILTERED_KEYS) {
      this.tooMany = true;
      return undefined;
    }
    this.builds++;
    // Room to grow: a rebuild costs a scan, so not after every few new keys.
    const filter = new KeyFilter(Math.max(2 * n, 64 * 1024));
    // The caller (step) takes the first key at once: the snapshot is open before any commit can be logged.
    const keys = this.db.getKeys({ start, end })[Symbol.iterator]();
    this.building = { filter, keys, op: undefined, name: undefined, seed: 0, log: [] };
    return this.building;
  }

  private finishBuild(b: Build): KeyFilter | undefined {
    this.building = undefined;
    const log = b.log;
    for (let i = 0; i < log.length; i += 4) {
      const seed = log[i + 1] as number;
      const key = log[i + 2] as StateKey;
      const field = log[i + 3] as StateKey | undefined;
      if (log[i] === ADD) {
        if (!b.filter.add(seed, key, field)) return this.failBuild();
      } else b.filter.remove(seed, key, field);
    }
    this.filter = b.filter;
    return b.filter;
  }

  /** Fuller than counted (keys written meanwhile) or an insertion failed: no filter until a reset. */
  private failBuild(): undefined {
    this.stopBuild();
    this.tooMany = true;
    return undefined;
  }

  private stopBuild(): void {
    const b = this.building;
    if (b === undefined) return;
    this.building = undefined;
    // Ends the iterator's read transaction, so LMDB can reuse the pages the snapshot pinned.
    b.keys.return?.();
  }
}

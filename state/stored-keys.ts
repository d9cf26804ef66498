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
 *   - built lazily from a scan of the actor's committed keys, on the first
 *     read that needs it (never inside a commit: `knownAbsent` never builds);
 *   - dropped by `invalidate()` whenever the store forgets its memory (lease
 *     taken, restore from a changelog, drop, close: another writer or a
 *     restore may have written LMDB), and when a commit aborts (its removals
 *     may not have happened);
 *   - dropped when full or an insertion failed, and rebuilt bigger from the
 *     scan at the next read.
 *
 * Above MAX_FILTERED_KEYS stored slots there is no filter (about 2.1 bytes a
 * slot: the bound keeps it under 16 MiB per actor) and every miss reads LMDB
 * as before; a later reset tries again.
 */
import type { BinaryDb } from './env.ts';
import { KeyFilter, stateSeed } from './key-filter.ts';
import { RANGE_END, type StateKey } from './key-order.ts';

export const MAX_FILTERED_KEYS = 4_000_000;

export class StoredKeys {
  private filter: KeyFilter | undefined;
  /** The last scan found more than MAX_FILTERED_KEYS (or could not fill a filter): none until invalidate(). */
  private tooMany = false;
  /** Scans done (tests and diagnostics). */
  builds = 0;

  constructor(
    private readonly db: BinaryDb,
    private readonly actorId: string,
  ) {}

  /** Read path: false only when LMDB certainly holds no such slot. May scan the actor's keys first. */
  mayBeStored(seed: number, key: StateKey, field?: StateKey): boolean {
    let f = this.filter;
    if (f === undefined) {
      if (this.tooMany) return true;
      f = this.build();
      if (f === undefined) return true;
    }
    return f.mayContain(seed, key, field);
  }

  /** Commit path: true when the filter certainly excludes the slot; never scans. */
  knownAbsent(seed: number, key: StateKey, field?: StateKey): boolean {
    return this.filter !== undefined && !this.filter.mayContain(seed, key, field);
  }

  /** The commit stored a slot LMDB did not hold. */
  added(seed: number, key: StateKey, field?: StateKey): void {
    if (this.filter !== undefined && !this.filter.add(seed, key, field)) this.filter = undefined;
  }

  /** The commit removed a slot LMDB held (and so the filter has). */
  removed(seed: number, key: StateKey, field?: StateKey): void {
    this.filter?.remove(seed, key, field);
  }

  /** Forgets the filter: the next read rebuilds it from LMDB. */
  invalidate(): void {
    this.filter = undefined;
    this.tooMany = false;
  }

  private build(): KeyFilter | undefined {
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
    const f = new KeyFilter(Math.max(2 * n, 64 * 1024));
    let op: unknown;
    let name: unknown;
    let seed = 0;
    for (const k of this.db.getKeys({ start, end })) {
      const a = k as unknown as [string, string, string, StateKey, StateKey?];
      // Keys come sorted, so one state's keys are contiguous: one seed per state.
      if (a[1] !== op || a[2] !== name) {
        op = a[1];
        name = a[2];
        seed = stateSeed(a[1], a[2]);
      }
      if (!f.add(seed, a[3], a[4])) {
        // Fuller than counted (keys written meanwhile) or an insertion failed: no filter until a reset.
        this.tooMany = true;
        return undefined;
      }
    }
    this.filter = f;
    return f;
  }
}

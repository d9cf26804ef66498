import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../../state/env.ts';
import { PartitionStore } from '../../../state/partition-store.ts';
import { RANGE_END } from '../../../state/key-order.ts';
import type { OperatorContext } from '../../../engine/contracts/operator.ts';
import { DueBuckets, DUE_CHUNK, DUE_CHUNK_BYTES } from '../../../engine/operators/due-buckets.ts';
import { tempStateDir } from '../../state/helpers.ts';

// The interval join's eviction lists (due-buckets.ts) on a real LMDB store:
// one state entry per bucket and chunk, whatever the number of keys, so a
// checkpoint writes (and the changelog carries) a record per bucket, not per key.

/** The store as an operator's context sees it (what PartitionActor hands the join). */
function ctxOf(store: PartitionStore): OperatorContext<unknown> {
  return { valueState: (n: string) => store.valueState('join', n), mapState: (n: string) => store.mapState('join', n) } as unknown as OperatorContext<unknown>;
}

function commit(store: PartitionStore, epoch: number): number {
  return store.commit({ epoch, positions: {}, outbox: [] }).keysWritten;
}

/** LMDB keys the operator holds: what a restore would bring back. */
function storedKeys(env: StateEnv): number {
  return [...env.state.getKeys({ start: ['p0'], end: ['p0', RANGE_END] })].length;
}

describe('DueBuckets', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('lists thousands of keys in a few state entries, returns each of them once, and leaves nothing behind', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 16 });
    const due = new DueBuckets('L');
    due.start(ctxOf(store));
    const n = 2 * DUE_CHUNK + 100;
    const fresh: boolean[] = [];
    for (let i = 0; i < n; i++) {
      fresh.push(due.add(5000, `k${i}`));
      // A record of the same key right after: not listed again.
      if (i % 7 === 0) fresh.push(due.add(5000, `k${i}`));
    }
    expect(fresh.filter(Boolean)).toHaveLength(1);
    expect(due.add(6000, 'other')).toBe(true);
    // Two sealed chunks and two open lists: four entries for 2,149 keys.
    expect(store.stats().dirtyEntries).toBe(4);
    expect(commit(store, 1)).toBe(4 + 1);

    // Read back from LMDB (the cache holds 16 entries): every key, once.
    const keys = due.take(5000);
    expect(keys).toHaveLength(n);
    expect(new Set(keys).size).toBe(n);
    expect(due.take(6000)).toEqual(['other']);
    expect(due.take(7000)).toEqual([]);
    commit(store, 2);
    expect(storedKeys(env)).toBe(0);
  });

  it('seals a chunk of long keys by its bytes, so no changelog record nears Kafka\'s 1 MiB limit', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0');
    const due = new DueBuckets('L');
    due.start(ctxOf(store));
    // Keys of 1,900 characters (state keys may be up to about 2 KB).
    const long = (i: number): string => `${i}:`.padEnd(1900, 'x');
    for (let i = 0; i < 500; i++) due.add(9000, long(i));
    const sizes: number[] = [];
    store.commit({ epoch: 1, positions: {}, outbox: [], recorder: (_db, _k, v) => void (v && sizes.push(v.length)) });
    expect(Math.max(...sizes)).toBeLessThan(DUE_CHUNK_BYTES + 4096);
    expect(due.take(9000)).toHaveLength(500);
  });

  it('lists a hot key once however its records interleave with others', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0');
    const due = new DueBuckets('R');
    due.start(ctxOf(store));
    for (let i = 0; i < 300; i++) {
      due.add(4000, 'hot');
      due.add(4000, `cold-${i}`);
    }
    commit(store, 1);
    // From LMDB now, then more of the same key: still once.
    store.close();
    const again = new PartitionStore(env, 'p0');
    const more = new DueBuckets('R');
    more.start(ctxOf(again));
    for (let i = 0; i < 50; i++) more.add(4000, 'hot');
    const keys = more.take(4000);
    expect(keys.filter((k) => k === 'hot')).toHaveLength(1);
    expect(keys).toHaveLength(301);
  });

  it('goes on filling a bucket after a restart, from what the last checkpoint holds', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const first = new PartitionStore(env, 'p0');
    const a = new DueBuckets('R');
    a.start(ctxOf(first));
    for (let i = 0; i < DUE_CHUNK + 10; i++) a.add(1000, `a${i}`);
    commit(first, 1);
    // Written after the checkpoint: lost with the crash.
    a.add(1000, 'lost');
    first.close();

    const second = new PartitionStore(env, 'p0');
    const b = new DueBuckets('R');
    b.start(ctxOf(second));
    expect(b.add(1000, 'after')).toBe(false);
    commit(second, 2);
    const keys = b.take(1000);
    expect(keys).toHaveLength(DUE_CHUNK + 11);
    expect(keys).toContain('after');
    expect(keys).not.toContain('lost');
  });

  it('reads and clears the per-key entries that state written before the lists holds', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0');
    const legacy = store.mapState<1>('join', 'bucketL');
    for (const k of ['x', 'y', 'z']) legacy.put(2000, k, 1);
    commit(store, 1);

    const due = new DueBuckets('L');
    due.start(ctxOf(store));
    due.add(2000, 'w');
    expect(due.take(2000).sort()).toEqual(['w', 'x', 'y', 'z']);
    commit(store, 2);
    expect(storedKeys(env)).toBe(0);
  });
});

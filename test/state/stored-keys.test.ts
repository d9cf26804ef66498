import { describe, it, expect, afterEach } from 'vitest';
import { hostname } from 'node:os';
import type { Key } from 'lmdb';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { MAX_ENCODE_DEPTH } from '../../state/codec.ts';
import { tempStateDir } from './helpers.ts';
import { SCAN_STEP } from '../../state/stored-keys.ts';
import { stateSeed } from '../../state/key-filter.ts';
import { RANGE_END } from '../../state/key-order.ts';

// The key filter (state/stored-keys.ts) lets a store answer "absent" without
// reading LMDB. Each case below is a way LMDB could come to hold a key the
// filter was never told about; a stale filter would read it as absent.

function deep(levels: number): unknown {
  let v: unknown = 0;
  for (let i = 0; i < levels; i++) v = [v];
  return v;
}

describe('StoredKeys (the key filter of a PartitionStore)', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('answers first-seen keys without a scan after the first, and finds every committed key once evicted', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const vs = store.valueState<number>('op', 'v');
    const ms = store.mapState<number>('op', 'm');
    for (let i = 0; i < 2000; i++) {
      expect(vs.get(`k${i}`)).toBeUndefined();
      expect(ms.get(i % 10, `f${i}`)).toBeUndefined();
      vs.put(`k${i}`, i);
      ms.put(i % 10, `f${i}`, i);
      if (i % 100 === 99) store.commit({ epoch: i, positions: {}, outbox: [] });
    }
    expect(store.storedKeys.builds).toBe(1);
    // cacheMaxEntries 0: every read below comes from LMDB through the filter.
    for (let i = 0; i < 2000; i++) {
      expect(vs.get(`k${i}`)).toBe(i);
      expect(ms.get(i % 10, `f${i}`)).toBe(i);
    }
    // Deletes and clears leave the filter; the keys come back when written again.
    for (let i = 0; i < 1000; i++) vs.delete(`k${i}`);
    ms.clear(3);
    store.commit({ epoch: 5000, positions: {}, outbox: [] });
    for (let i = 0; i < 1000; i++) expect(vs.get(`k${i}`)).toBeUndefined();
    expect(ms.get(3, 'f3')).toBeUndefined();
    vs.put('k5', 55);
    ms.put(3, 'f3', 33);
    store.commit({ epoch: 5001, positions: {}, outbox: [] });
    expect(vs.get('k5')).toBe(55);
    expect(ms.get(3, 'f3')).toBe(33);
    expect(ms.entries(3)).toEqual([['f3', 33]]);
    expect(store.storedKeys.builds).toBe(1);
  });

  it('finds keys another store committed while it did not hold the lease', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const a = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const b = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const ownerA = { token: 'a', pid: process.pid, host: hostname() };
    const ownerB = { token: 'b', pid: process.pid, host: hostname() };
    expect(a.tryAcquireLease(ownerA).ok).toBe(true);
    expect(a.valueState<number>('op', 'v').get('x')).toBeUndefined(); // a's filter is built: no x
    a.releaseLease('a');
    expect(b.tryAcquireLease(ownerB).ok).toBe(true);
    b.valueState<number>('op', 'v').put('x', 1);
    b.mapState<number>('op', 'm').put('y', 'z', 2);
    b.commit({ epoch: 1, positions: {}, outbox: [] });
    b.releaseLease('b');
    expect(a.tryAcquireLease(ownerA).ok).toBe(true);
    expect(a.valueState<number>('op', 'v').get('x')).toBe(1);
    expect(a.mapState<number>('op', 'm').get('y', 'z')).toBe(2);
  });

  it('finds keys restored from a changelog into a store that had built its filter', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const source = new PartitionStore(env, 'p0');
    const entries: Array<{ db: 'state' | 'timers'; key: Key; value: Buffer | null }> = [];
    source.valueState<number>('op', 'v').put('x', 7);
    source.mapState<number>('op', 'm').put(1, 2, 3);
    source.commit({ epoch: 1, positions: {}, outbox: [], recorder: (db, key, value) => entries.push({ db, key: structuredClone(key), value: value && Buffer.from(value) }) });
    expect(entries.length).toBe(2);
    source.drop();

    const target = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    expect(target.valueState<number>('op', 'v').get('x')).toBeUndefined();
    expect(target.mapState<number>('op', 'm').get(1, 2)).toBeUndefined();
    target.drop();
    target.restoreEntries(entries);
    expect(target.valueState<number>('op', 'v').get('x')).toBe(7);
    expect(target.mapState<number>('op', 'm').get(1, 2)).toBe(3);
  });

  it('keeps a key whose delete was in a commit that aborted', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const vs = store.valueState<unknown>('op', 'v');
    vs.put('a', 1);
    store.commit({ epoch: 1, positions: {}, outbox: [] });
    expect(vs.get('a')).toBe(1);
    // The delete of a is written before b's value fails to encode: the transaction aborts.
    vs.delete('a');
    vs.put('b', deep(MAX_ENCODE_DEPTH + 5));
    expect(() => store.commit({ epoch: 2, positions: {}, outbox: [] })).toThrow(/nested deeper/);
    vs.put('a', 2); // LMDB holds a (the delete aborted): an update, not a new key
    vs.put('b', 3);
    store.commit({ epoch: 3, positions: {}, outbox: [] });
    expect(vs.get('a')).toBe(2);
    expect(vs.get('b')).toBe(3);
  });

  it('counts blind writes of keys it rules out as new keys without reading them', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 10 });
    const vs = store.valueState<number>('op', 'v');
    vs.get('warm'); // builds the filter
    for (let i = 0; i < 100; i++) vs.put(i, i);
    store.commit({ epoch: 1, positions: {}, outbox: [] });
    for (let i = 0; i < 100; i++) vs.put(i, i + 1); // blind overwrites of stored keys
    store.commit({ epoch: 2, positions: {}, outbox: [] });
    expect(store.stats().stateKeys).toBe(100);
    const reopened = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    expect(reopened.stats().stateKeys).toBe(100);
    expect(reopened.valueState<number>('op', 'v').get(42)).toBe(43);
  });

  it('writes the right key when the entry a read remembered was evicted and recycled in between', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 1 });
    const vs = store.valueState<number>('op', 'v');
    const other = store.valueState<number>('op', 'w');
    vs.put('a', 1);
    other.put('b', 10);
    store.commit({ epoch: 1, positions: {}, outbox: [] });
    expect(vs.get('a')).toBe(1); // read: remembered for the write below
    expect(other.get('b')).toBe(10); // evicts a's entry and takes its object
    vs.put('a', 2);
    expect(vs.get('nope')).toBeUndefined(); // ruled out by the filter: remembered as absent
    expect(other.get('c')).toBeUndefined();
    vs.put('nope', 3);
    store.commit({ epoch: 2, positions: {}, outbox: [] });
    const reopened = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    expect(reopened.valueState<number>('op', 'v').get('a')).toBe(2);
    expect(reopened.valueState<number>('op', 'v').get('nope')).toBe(3);
    expect(reopened.valueState<number>('op', 'w').get('b')).toBe(10);
    expect(reopened.stats().stateKeys).toBe(3);
  });

  it('builds its filter a step per read from one snapshot, with the commits made meanwhile, and never blocks a read on the whole scan', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const writer = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const w = writer.valueState<number>('op', 'v');
    const N = 10 * SCAN_STEP;
    for (let i = 0; i < N; i++) w.put(`k${String(i).padStart(6, '0')}`, i);
    writer.commit({ epoch: 1, positions: {}, outbox: [] });
    writer.close();
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const vs = store.valueState<number>('op', 'v');
    const name = (i: number) => `k${String(i).padStart(6, '0')}`;
    // The first read starts the build and scans one step: no filter yet, so it reads LMDB.
    expect(vs.get(name(0))).toBe(0);
    expect(store.storedKeys.scanning).toBe(true);
    // Commits while the scan runs, on both sides of where it is: keys removed before it reaches them
    // (a removal the snapshot has), keys added after it (past its end: not in the snapshot), keys added
    // and removed again.
    for (let i = N - 100; i < N; i++) vs.delete(name(i));
    for (let i = 0; i < 50; i++) vs.delete(name(i));
    for (let i = N; i < N + 300; i++) vs.put(name(i), i);
    store.commit({ epoch: 2, positions: {}, outbox: [] });
    for (let i = N; i < N + 10; i++) vs.delete(name(i));
    store.commit({ epoch: 3, positions: {}, outbox: [] });
    // Reads move the scan on, SCAN_STEP keys each: it ends after the rest of the keys' steps.
    let reads = 1;
    while (store.storedKeys.scanning) {
      expect(vs.get(name(1_000_000 + reads))).toBeUndefined();
      reads++;
    }
    expect(reads).toBe(Math.ceil((N + 1) / SCAN_STEP));
    expect(store.storedKeys.builds).toBe(1);
    // The filter holds exactly the stored slots: the snapshot's N, minus 150 removed, plus 290 added.
    const live = new Set<string>();
    for (const k of env.state.getKeys({ start: ['p0'], end: ['p0', RANGE_END] })) live.add(String((k as unknown[])[3]));
    expect(live.size).toBe(N - 150 + 290);
    const filter = (store.storedKeys as unknown as { filter: { size: number } }).filter;
    expect(filter.size).toBe(live.size);
    for (let i = 0; i < N + 300; i++) expect(vs.get(name(i))).toBe(live.has(name(i)) ? i : undefined);
    // Keys never stored are ruled out now (a fingerprint clash lets about 1 in 8,000 through).
    let ruledOut = 0;
    for (let i = 0; i < 1000; i++) if (!store.storedKeys.mayBeStored(stateSeed('op', 'v'), `absent${i}`)) ruledOut++;
    expect(ruledOut).toBeGreaterThan(990);
  });

  it('drops a build under way when the store forgets its memory, and starts again from a new snapshot', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const a = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    for (let i = 0; i < 3 * SCAN_STEP; i++) a.valueState<number>('op', 'v').put(i, i);
    a.commit({ epoch: 1, positions: {}, outbox: [] });
    expect(a.valueState<number>('op', 'v').get(0)).toBe(0);
    expect(a.storedKeys.scanning).toBe(true);
    a.storedKeys.invalidate();
    expect(a.storedKeys.scanning).toBe(false);
    // Written behind the back of the dropped build (as another owner would): the new build sees it.
    a.valueState<number>('op', 'v').put('late', 1);
    a.commit({ epoch: 2, positions: {}, outbox: [] });
    for (let i = 0; a.storedKeys.builds < 2 || a.storedKeys.scanning; i++) expect(a.valueState<number>('op', 'v').get(`probe${i}`)).toBeUndefined();
    expect(a.storedKeys.builds).toBe(2);
    expect(a.valueState<number>('op', 'v').get('late')).toBe(1);
  });
});

import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

// State a hundred times larger than the cache: the engine
// checkpoints whenever needsCheckpoint() says so, and everything must still
// read back, from the cache, from LMDB, and after a reopen.
describe('cache spilling to LMDB', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('keeps memory bounded and reads all 10,000 keys back with cacheMaxEntries=100', async () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p3', { cacheMaxEntries: 100 });
    const vs = store.valueState<{ id: number; sq: number }>('op', 'v');
    const ms = store.mapState<number>('op', 'm');
    let epoch = 0;
    let maxCached = 0;
    let checkpoints = 0;
    for (let i = 0; i < 10_000; i++) {
      vs.put(i, { id: i, sq: i * i });
      ms.put(`k${i % 50}`, i, i);
      if (store.needsCheckpoint()) {
        store.commit({ epoch: ++epoch, positions: { 'src:0': i + 1 }, outbox: [] });
        checkpoints++;
      }
      maxCached = Math.max(maxCached, store.stats().cachedEntries);
    }
    store.commit({ epoch: ++epoch, positions: { 'src:0': 10_000 }, outbox: [] });
    // Bound + the dirty entries that triggered a checkpoint (needsCheckpoint
    // turns true once dirty > 100, and each step writes two entries).
    expect(maxCached).toBeLessThanOrEqual(100 + 2);
    expect(checkpoints).toBeGreaterThan(90);
    expect(store.stats().cachedEntries).toBeLessThanOrEqual(100);
    expect(store.stats().stateKeys).toBe(20_000);

    const check = (s: PartitionStore) => {
      const v = s.valueState<{ id: number; sq: number }>('op', 'v');
      const m = s.mapState<number>('op', 'm');
      for (let i = 0; i < 10_000; i++) {
        const got = v.get(i);
        if (got?.id !== i || got.sq !== i * i) throw new Error(`key ${i}: ${JSON.stringify(got)}`);
        if (m.get(`k${i % 50}`, i) !== i) throw new Error(`field ${i}`);
      }
      expect(s.stats().cachedEntries).toBeLessThanOrEqual(100);
      expect(m.keys('k7')).toHaveLength(200);
    };
    check(store);
    store.close();
    await closeStateEnv(env);

    env = openStateEnv(tmp.dir, { noSync: true });
    const reopened = new PartitionStore(env, 'p3', { cacheMaxEntries: 100 });
    check(reopened);
    expect(reopened.readMeta()).toEqual({ epoch, positions: { 'src:0': 10_000 } });
    expect(reopened.stats()).toMatchObject({ stateKeys: 20_000, dirtyEntries: 0 });
  });

  it('serves repeated reads of a hot set from the cache', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 10 });
    const vs = store.valueState<number>('op', 'v');
    for (let i = 0; i < 100; i++) vs.put(i, i);
    store.commit({ epoch: 1, positions: {}, outbox: [] });
    // Cached values are returned by reference: a hit gives the same object.
    const obj = store.valueState<{ a: number }>('op', 'obj');
    obj.put('x', { a: 1 });
    store.commit({ epoch: 2, positions: {}, outbox: [] });
    const first = obj.get('x');
    expect(obj.get('x')).toBe(first);
    for (let i = 0; i < 100; i++) vs.get(i); // evicts 'x'
    const reread = obj.get('x');
    expect(reread).toEqual(first);
    expect(reread).not.toBe(first);
  });
});

import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

let epoch = 0;
const commit = (s: PartitionStore) => s.commit({ epoch: ++epoch, positions: {}, outbox: [] });

describe('MapState', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  function open(cacheMaxEntries = 1000): PartitionStore {
    return new PartitionStore(env, 'p0', { cacheMaxEntries });
  }

  it('round-trips fields and lists them sorted by field, numbers first', async () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = open();
    const ms = store.mapState<number>('join', 'pending');
    ms.put('k', 'b', 2);
    ms.put('k', 'a', 1);
    ms.put('k', 10, 10);
    ms.put('k', 2, 20);
    ms.put('other', 'a', 99);
    const expected = [
      [2, 20],
      [10, 10],
      ['a', 1],
      ['b', 2],
    ];
    expect(ms.entries('k')).toEqual(expected); // all dirty, nothing stored yet
    commit(store);
    expect(ms.entries('k')).toEqual(expected); // all stored
    ms.put('k', 'aa', 3);
    ms.delete('k', 10);
    const mixed = [
      [2, 20],
      ['a', 1],
      ['aa', 3],
      ['b', 2],
    ];
    expect(ms.entries('k')).toEqual(mixed); // stored overlaid with dirty
    expect(ms.keys('k')).toEqual([2, 'a', 'aa', 'b']);
    commit(store);
    store.close();
    await closeStateEnv(env);

    env = openStateEnv(tmp.dir);
    const ms2 = open().mapState<number>('join', 'pending');
    expect(ms2.entries('k')).toEqual(mixed);
    expect(ms2.get('k', 'aa')).toBe(3);
    expect(ms2.get('k', 10)).toBeUndefined();
    expect(ms2.get('other', 'a')).toBe(99);
    expect(ms2.entries('missing')).toEqual([]);
  });

  it('clear(key) hides stored fields at once and deletes them at the checkpoint', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = open(2); // tiny cache: most fields are not cached
    const ms = store.mapState<string>('op', 'm');
    for (let i = 0; i < 20; i++) ms.put('k', i, `v${i}`);
    ms.put('k2', 1, 'keep');
    commit(store);
    ms.clear('k');
    expect(ms.get('k', 5)).toBeUndefined();
    expect(ms.entries('k')).toEqual([]);
    ms.put('k', 3, 'new');
    expect(ms.entries('k')).toEqual([[3, 'new']]);
    expect(store.stats().stateKeys).toBe(21);
    commit(store);
    expect(store.stats().stateKeys).toBe(2);
    store.close();
    const again = open(2).mapState<string>('op', 'm');
    expect(again.entries('k')).toEqual([[3, 'new']]);
    expect(again.entries('k2')).toEqual([[1, 'keep']]);
  });

  it('a clear that is never committed leaves the stored fields in place', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = open(0);
    const ms = store.mapState<number>('op', 'm');
    ms.put('k', 'a', 1);
    commit(store);
    ms.clear('k');
    expect(ms.keys('k')).toEqual([]);
    store.close();
    expect(open(0).mapState<number>('op', 'm').keys('k')).toEqual(['a']);
  });

  it('does not confuse a key with a longer key sharing its prefix', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = open();
    const ms = store.mapState<number>('op', 'm');
    ms.put('k', 'f', 1);
    ms.put('kx', 'f', 2);
    ms.put('k\u0000', 'f', 3);
    ms.put('', 'f', 4);
    commit(store);
    store.close();
    const store2 = open();
    const ms2 = store2.mapState<number>('op', 'm');
    expect(ms2.entries('k')).toEqual([['f', 1]]);
    expect(ms2.entries('kx')).toEqual([['f', 2]]);
    expect(ms2.entries('k\u0000')).toEqual([['f', 3]]);
    expect(ms2.entries('')).toEqual([['f', 4]]);
    ms2.clear('k');
    commit(store2);
    store2.close();
    const ms3 = open().mapState<number>('op', 'm');
    expect(ms3.entries('k')).toEqual([]);
    expect(ms3.entries('kx')).toEqual([['f', 2]]);
    expect(ms3.entries('k\u0000')).toEqual([['f', 3]]);
    expect(ms3.entries('')).toEqual([['f', 4]]);
  });
});

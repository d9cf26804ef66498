import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { SluiceError } from '../../engine/errors.ts';
import { tempStateDir } from './helpers.ts';

describe('PartitionStore', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('records positions, epoch and extra with each checkpoint and only accepts growing epochs', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    expect(store.readMeta()).toBeUndefined();
    const r = store.commit({ epoch: 7, positions: { 'orders:3': 1201 }, extra: { watermark: 99 }, outbox: [] });
    expect(r.keysWritten).toBe(1);
    expect(r.durationMs).toBeGreaterThan(0);
    expect(store.readMeta()).toEqual({ epoch: 7, positions: { 'orders:3': 1201 }, extra: { watermark: 99 } });
    store.valueState<number>('op', 'v').put('k', 1);
    let err: unknown;
    try {
      store.commit({ epoch: 7, positions: {}, outbox: [] });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('SLUICE_STATE');
    // The failed commit changed nothing, and the dirty write is still pending.
    expect(store.readMeta()?.epoch).toBe(7);
    expect(store.stats().dirtyEntries).toBe(1);
    store.commit({ epoch: 8, positions: { 'orders:3': 1300 }, outbox: [] });
    expect(store.stats()).toMatchObject({ dirtyEntries: 0, stateKeys: 1 });
    expect(store.readMeta()).toEqual({ epoch: 8, positions: { 'orders:3': 1300 } });
  });

  it('writes each dirty key once per checkpoint however often it changed', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    const vs = store.valueState<number>('op', 'v');
    for (let i = 0; i < 1000; i++) vs.put(i % 10, i);
    const r = store.commit({ epoch: 1, positions: {}, outbox: [] });
    expect(r.keysWritten).toBe(10 + 1); // ten keys + the checkpoint record
    expect(vs.get(3)).toBe(993);
  });

  it('counts stored keys and bytes without scanning', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 0 });
    const vs = store.valueState<string>('op', 'v');
    vs.put('a', 'x'.repeat(100));
    vs.put('b', 'y');
    store.commit({ epoch: 1, positions: {}, outbox: [] });
    const s1 = store.stats();
    expect(s1.stateKeys).toBe(2);
    expect(s1.stateBytes).toBe(102 + 2); // msgpack str8 header + 100, fixstr + 1
    vs.put('a', 'short'); // blind overwrite: size looked up at commit
    vs.delete('b');
    vs.delete('never-existed');
    store.commit({ epoch: 2, positions: {}, outbox: [] });
    expect(store.stats()).toMatchObject({ stateKeys: 1, stateBytes: 6 });
  });

  it('needsCheckpoint() turns true once more than maxDirtyEntries are dirty', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 1000, maxDirtyEntries: 5 });
    const vs = store.valueState<number>('op', 'v');
    for (let i = 0; i < 5; i++) vs.put(i, i);
    expect(store.needsCheckpoint()).toBe(false);
    store.timers('op').register('event', 1, 'k');
    expect(store.needsCheckpoint()).toBe(true);
    store.commit({ epoch: 1, positions: {}, outbox: [] });
    expect(store.needsCheckpoint()).toBe(false);
  });

  it('drop() deletes state, timers, checkpoint and outbox of this actor only', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const fill = (id: string) => {
      const s = new PartitionStore(env, id);
      s.valueState<number>('op', 'v').put('k', 1);
      s.mapState<number>('op', 'm').put('k', 'f', 2);
      s.timers('op').register('event', 5, 'k');
      s.commit({ epoch: 1, positions: { 'src:0': 10 }, outbox: [{ sinkId: 's', records: [1] }] });
      return s;
    };
    const p1 = fill('p1');
    fill('p10');
    const vs = p1.valueState<number>('op', 'v');
    const timers = p1.timers('op');
    p1.drop();
    expect(p1.readMeta()).toBeUndefined();
    expect(p1.readOutbox()).toEqual([]);
    expect(vs.get('k')).toBeUndefined();
    expect(timers.next('event')).toBeUndefined();
    // The key filter knows 'k' is gone: the read is not cached (state/stored-keys.ts).
    expect(p1.stats()).toMatchObject({ stateKeys: 0, stateBytes: 0, cachedEntries: 0 });
    p1.close();
    const fresh = new PartitionStore(env, 'p1');
    expect(fresh.valueState<number>('op', 'v').get('k')).toBeUndefined();
    expect(fresh.mapState<number>('op', 'm').entries('k')).toEqual([]);
    expect(fresh.timers('op').next('event')).toBeUndefined();
    // After a drop, epochs start over.
    fresh.commit({ epoch: 1, positions: {}, outbox: [] });
    const other = new PartitionStore(env, 'p10');
    expect(other.valueState<number>('op', 'v').get('k')).toBe(1);
    expect(other.mapState<number>('op', 'm').entries('k')).toEqual([['f', 2]]);
    expect(other.timers('op').next('event')).toBe(5);
    expect(other.readMeta()?.positions).toEqual({ 'src:0': 10 });
    expect(other.readOutbox()).toHaveLength(1);
  });

  it('refuses to commit after close()', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    store.close();
    expect(() => store.commit({ epoch: 1, positions: {}, outbox: [] })).toThrow(/closed/);
  });
});

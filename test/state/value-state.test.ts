import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

const commit = (s: PartitionStore, epoch: number) => s.commit({ epoch, positions: {}, outbox: [] });

describe('ValueState', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('round-trips values through the cache, a commit and a reopen', async () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    const vs = store.valueState<{ n: number; s: string; b?: Uint8Array }>('agg', 'totals');
    expect(vs.get('a')).toBeUndefined();
    vs.put('a', { n: 1, s: 'x' });
    vs.put(7, { n: 7, s: 'seven', b: new Uint8Array([1, 2, 3]) });
    vs.put('gone', { n: 0, s: '' });
    vs.delete('gone');
    expect(vs.get('a')).toEqual({ n: 1, s: 'x' });
    commit(store, 1);
    expect(vs.get(7)?.n).toBe(7);
    store.close();
    await closeStateEnv(env);

    env = openStateEnv(tmp.dir);
    const again = new PartitionStore(env, 'p0');
    const vs2 = again.valueState<{ n: number; s: string; b?: Uint8Array }>('agg', 'totals');
    expect(vs2.get('a')).toEqual({ n: 1, s: 'x' });
    expect(vs2.get(7)?.s).toBe('seven');
    expect([...(vs2.get(7)?.b ?? [])]).toEqual([1, 2, 3]);
    expect(vs2.get('gone')).toBeUndefined();
    expect(again.stats().stateKeys).toBe(2);
  });

  it('keeps number and string keys apart and treats -0 as 0', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    const vs = store.valueState<string>('op', 'v');
    vs.put(1, 'number');
    vs.put('1', 'string');
    vs.put(-0, 'zero');
    commit(store, 1);
    store.close();
    const again = new PartitionStore(env, 'p0');
    const vs2 = again.valueState<string>('op', 'v');
    expect(vs2.get(1)).toBe('number');
    expect(vs2.get('1')).toBe('string');
    expect(vs2.get(0)).toBe('zero');
  });

  it('scopes state by actor, operator and state name', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const p1 = new PartitionStore(env, 'p1');
    const p10 = new PartitionStore(env, 'p10');
    p1.valueState<number>('op', 'v').put('k', 1);
    p1.valueState<number>('op', 'w').put('k', 2);
    p1.valueState<number>('op2', 'v').put('k', 3);
    p10.valueState<number>('op', 'v').put('k', 4);
    commit(p1, 1);
    commit(p10, 1);
    const fresh1 = new PartitionStore(env, 'p1');
    expect(fresh1.valueState<number>('op', 'v').get('k')).toBe(1);
    expect(fresh1.valueState<number>('op', 'w').get('k')).toBe(2);
    expect(fresh1.valueState<number>('op2', 'v').get('k')).toBe(3);
    expect(new PartitionStore(env, 'p10').valueState<number>('op', 'v').get('k')).toBe(4);
    expect(new PartitionStore(env, 'p2').valueState<number>('op', 'v').get('k')).toBeUndefined();
  });

  it('returns the same handle for the same name and refuses a kind clash', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    expect(store.valueState('op', 'v')).toBe(store.valueState('op', 'v'));
    expect(() => store.mapState('op', 'v')).toThrow(/already a value state/);
  });

  it('rejects keys LMDB cannot store, before the checkpoint', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    const vs = store.valueState<number>('op', 'v');
    expect(() => vs.put('x'.repeat(3000), 1)).toThrow(/state key too large/);
    expect(() => vs.put(NaN, 1)).toThrow(/NaN/);
    vs.put('y'.repeat(1900), 1); // long but fits
    expect(() => commit(store, 1)).not.toThrow();
  });
});

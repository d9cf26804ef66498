import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

let epoch = 0;
const commit = (s: PartitionStore) => s.commit({ epoch: ++epoch, positions: {}, outbox: [] });
const brief = (ts: Array<{ ts: number; key: string | number; tag?: string }>) => ts.map((t) => [t.ts, t.key, t.tag]);

describe('TimerService', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('fires due timers in (ts, key) order, once, and removes them', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const timers = new PartitionStore(env, 'p0').timers('window');
    timers.register('event', 200, 'b');
    timers.register('event', 100, 'z');
    timers.register('event', 200, 'a');
    timers.register('event', 200, 5);
    timers.register('event', 300, 'a');
    timers.register('event', 200, 'a'); // idempotent
    timers.register('event', 200, 'a', 'late'); // a different tag is a different timer
    timers.register('processing', 150, 'p');
    expect(timers.next('event')).toBe(100);
    expect(timers.size('event')).toBe(6);
    expect(brief(timers.popDue('event', 200))).toEqual([
      [100, 'z', undefined],
      [200, 5, undefined],
      [200, 'a', undefined],
      [200, 'a', 'late'],
      [200, 'b', undefined],
    ]);
    expect(timers.popDue('event', 200)).toEqual([]);
    expect(timers.next('event')).toBe(300);
    expect(timers.next('processing')).toBe(150);
    expect(timers.popDue('processing', 149)).toEqual([]);
    expect(brief(timers.popDue('processing', 1e15))).toEqual([[150, 'p', undefined]]);
    expect(timers.next('processing')).toBeUndefined();
  });

  it('deletes timers, and a deleted timer can be registered again', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const timers = new PartitionStore(env, 'p0').timers('op');
    timers.register('event', 10, 'k');
    timers.register('event', 20, 'k');
    expect(timers.delete('event', 10, 'k')).toBe(true);
    expect(timers.delete('event', 10, 'k')).toBe(false);
    expect(timers.next('event')).toBe(20);
    timers.register('event', 10, 'k');
    expect(brief(timers.popDue('event', 100))).toEqual([
      [10, 'k', undefined],
      [20, 'k', undefined],
    ]);
  });

  it('survives close and reopen once committed; uncommitted changes do not', async () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    const t = store.timers('op');
    t.register('event', 30, 'c');
    t.register('event', 10, 'a', 'tag');
    t.register('processing', 5, 1);
    t.register('event', 20, 'gone');
    commit(store);
    expect(t.delete('event', 20, 'gone')).toBe(true);
    commit(store); // the delete is committed too
    t.register('event', 1, 'uncommitted');
    expect(brief(t.popDue('event', 10))).toEqual([
      [1, 'uncommitted', undefined],
      [10, 'a', 'tag'],
    ]); // popped, not committed
    store.close();
    await closeStateEnv(env);

    env = openStateEnv(tmp.dir);
    const reopened = new PartitionStore(env, 'p0');
    const t2 = reopened.timers('op');
    expect(brief(t2.popDue('event', 100))).toEqual([
      [10, 'a', 'tag'],
      [30, 'c', undefined],
    ]);
    expect(t2.next('processing')).toBe(5);
    commit(reopened); // the pops are now durable
    reopened.close();
    const third = new PartitionStore(env, 'p0').timers('op');
    expect(third.next('event')).toBeUndefined();
    expect(third.next('processing')).toBe(5);
    expect(new PartitionStore(env, 'p0').timers('other-op').next('processing')).toBeUndefined();
  });

  it('handles many timers at one timestamp and heavy churn', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const store = new PartitionStore(env, 'p0');
    const t = store.timers('op');
    for (let k = 0; k < 20_000; k++) t.register('event', 1000, k);
    for (let k = 0; k < 20_000; k += 2) t.delete('event', 1000, k);
    for (let k = 0; k < 5_000; k++) t.register('event', 500 + (k % 7), `s${k}`);
    commit(store);
    const due = t.popDue('event', 999);
    expect(due).toHaveLength(5_000);
    for (let i = 1; i < due.length; i++) {
      const a = due[i - 1];
      const b = due[i];
      expect(a.ts < b.ts || (a.ts === b.ts && a.key < b.key)).toBe(true);
    }
    const rest = t.popDue('event', 1000);
    expect(rest).toHaveLength(10_000);
    expect(rest.every((x, i) => x.key === 2 * i + 1)).toBe(true);
  });
});

/** State keys and bytes are counted per operator too, across puts, deletes, clears and a reopen. */
import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

let epoch = 0;
const commit = (s: PartitionStore) => s.commit({ epoch: ++epoch, positions: {}, outbox: [] });

describe('state counts by operator', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('splits keys and bytes by operator and keeps the split in the checkpoint record', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 4 });
    const a = store.valueState<string>('count', 'n');
    const b = store.mapState<number>('join', 'pending');
    for (let i = 0; i < 10; i++) a.put(`k${i}`, 'x'.repeat(10));
    for (let i = 0; i < 6; i++) b.put('order', i, i);
    commit(store);
    const s1 = store.stats();
    expect(s1.byOperator.count[0]).toBe(10);
    expect(s1.byOperator.join[0]).toBe(6);
    expect(s1.byOperator.count[0] + s1.byOperator.join[0]).toBe(s1.stateKeys);
    expect(s1.byOperator.count[1] + s1.byOperator.join[1]).toBe(s1.stateBytes);
    a.delete('k0');
    a.put('k1', 'y'.repeat(50));
    b.clear('order');
    commit(store);
    const s2 = store.stats();
    expect(s2.byOperator.count[0]).toBe(9);
    expect(s2.byOperator.count[1]).toBeGreaterThan(s1.byOperator.count[1]);
    expect(s2.byOperator.join).toBeUndefined(); // no keys left for it
    store.close();
    const again = new PartitionStore(env, 'p0', {});
    expect(again.stats().byOperator).toEqual(s2.byOperator);
  });
});

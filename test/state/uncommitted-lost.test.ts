import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { spawnFixture, exited, lines, tempStateDir } from './helpers.ts';
import { verifyCheckpoint } from './checkpoint-verify.ts';

describe('uncommitted changes', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  afterEach(() => tmp.cleanup());

  for (const death of ['exit', 'kill'] as const) {
    it(`vanish when the process ends without a commit (${death})`, async () => {
      tmp = tempStateDir();
      const child = spawnFixture('checkpoint-writer.ts', { dir: tmp.dir, actorId: 'p0', keys: 300, mode: 'dirty-exit', death });
      const out = lines(child);
      await exited(child);
      expect(out.all).toContain('dirty');
      expect(await verifyCheckpoint(tmp.dir, 'p0', 300)).toBe(1);
    });
  }

  it('vanish when a store is closed and reopened in the same process', async () => {
    tmp = tempStateDir();
    const env = openStateEnv(tmp.dir);
    try {
      const store = new PartitionStore(env, 'p0', { cacheMaxEntries: 5 });
      const vs = store.valueState<number>('op', 'v');
      vs.put('kept', 1);
      store.commit({ epoch: 1, positions: { 'src:0': 5 }, outbox: [] });
      for (let i = 0; i < 50; i++) vs.put(i, i); // far beyond the cache: still not in LMDB
      vs.put('kept', 2);
      store.mapState<number>('op', 'm').put('k', 'f', 1);
      store.close();
      const again = new PartitionStore(env, 'p0');
      expect(again.valueState<number>('op', 'v').get('kept')).toBe(1);
      expect(again.valueState<number>('op', 'v').get(7)).toBeUndefined();
      expect(again.mapState<number>('op', 'm').entries('k')).toEqual([]);
      expect(again.readMeta()?.positions).toEqual({ 'src:0': 5 });
    } finally {
      await closeStateEnv(env);
    }
  });
});

import { describe, it, expect } from 'vitest';
import type { ActorStore } from '../../engine/runtime/store-contract.ts';
import { openStateEnv, closeStateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

// The runtime codes against its own ActorStore interface; this assignment is
// the compile-time check (tsc) that PartitionStore still satisfies it.
describe('engine store contract', () => {
  it('is implemented by PartitionStore', async () => {
    const tmp = tempStateDir();
    const env = openStateEnv(tmp.dir);
    try {
      const store: ActorStore = new PartitionStore(env, 'p0');
      store.valueState<number>('op', 'v').put(1, 1);
      expect(store.commit({ epoch: 1, positions: {}, outbox: [] }).keysWritten).toBe(2);
      store.close();
    } finally {
      await closeStateEnv(env);
      tmp.cleanup();
    }
  });
});

import { describe, it, expect } from 'vitest';
import { join } from 'node:path';
import { openStateEnv, closeStateEnv } from '../../state/env.ts';
import { tempStateDir } from './helpers.ts';

describe('openStateEnv', () => {
  it('opens each directory once per thread and closes it with the last reference', async () => {
    const tmp = tempStateDir();
    try {
      const a = openStateEnv(tmp.dir);
      const b = openStateEnv(join(tmp.dir, '.'));
      expect(b).toBe(a);
      expect(() => openStateEnv(tmp.dir, { noSync: true })).toThrow(/already open/);
      await closeStateEnv(a);
      a.state.get(['still', 'open']);
      await closeStateEnv(b);
      expect(() => a.state.transactionSync(() => a.state.putSync(['x'], Buffer.from([1])))).toThrow();
      const c = openStateEnv(tmp.dir);
      expect(c).not.toBe(a);
      await closeStateEnv(c);
    } finally {
      tmp.cleanup();
    }
  });
});

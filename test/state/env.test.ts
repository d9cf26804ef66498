import { describe, it, expect } from 'vitest';
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStateEnv, closeStateEnv, maybeCheckReaders } from '../../state/env.ts';
import { tempStateDir, spawnFixture, lines, exited } from './helpers.ts';

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

  it('opens a state directory whose name has an extension as a directory', async () => {
    const tmp = tempStateDir();
    try {
      // e.g. --state-dir ./state/job.mts, which already holds identity.json
      const dir = join(tmp.dir, 'job.mts');
      mkdirSync(dir);
      writeFileSync(join(dir, 'identity.json'), '{}');
      const env = openStateEnv(dir);
      env.state.transactionSync(() => env.state.putSync(['k'], Buffer.from([1])));
      await closeStateEnv(env);
      expect(statSync(dir).isDirectory()).toBe(true);
      expect(readdirSync(dir)).toContain('data.mdb');
    } finally {
      tmp.cleanup();
    }
  });
});

describe('maybeCheckReaders', () => {
  it('frees the reader slot of a killed process, at most once a minute', async () => {
    const tmp = tempStateDir();
    const env = openStateEnv(tmp.dir);
    try {
      const child = spawnFixture('idle-reader.ts', { dir: tmp.dir });
      await lines(child).waitFor((l) => l.startsWith('reading'));
      const pid = String(child.pid);
      expect(env.root.readerList()).toContain(pid);
      child.kill('SIGKILL');
      await exited(child);
      const t0 = Date.now();
      expect(maybeCheckReaders(env, t0)).toBeUndefined(); // first call: lmdb-js checked at open
      expect(maybeCheckReaders(env, t0 + 1_000)).toBeUndefined();
      expect(maybeCheckReaders(env, t0 + 61_000)).toBeGreaterThanOrEqual(1);
      expect(env.root.readerList()).not.toContain(` ${pid}`);
    } finally {
      await closeStateEnv(env);
      tmp.cleanup();
    }
  });
});

import { describe, it, expect, afterEach } from 'vitest';
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { pidAlive } from '../../state/lease.ts';
import { tempStateDir } from './helpers.ts';

/** The pid of a process that has already exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  const pid = Number(r.stdout);
  expect(pidAlive(pid)).toBe(false);
  return pid;
}

describe('partition lease', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  const host = hostname();
  const me = (token: string) => ({ pid: process.pid, host, token });

  it('is exclusive while the holder lives, re-entrant for its token, and releasable', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const a = new PartitionStore(env, 'p1');
    const b = new PartitionStore(env, 'p1');
    expect(a.tryAcquireLease(me('A'))).toEqual({ ok: true });
    expect(a.tryAcquireLease(me('A'))).toEqual({ ok: true });
    const denied = b.tryAcquireLease(me('B'));
    expect(denied.ok).toBe(false);
    if (!denied.ok) expect(denied.holder).toMatchObject({ pid: process.pid, host, token: 'A' });
    // Leases are per actor.
    expect(new PartitionStore(env, 'p2').tryAcquireLease(me('B'))).toEqual({ ok: true });
    expect(b.releaseLease('B-not-holding-p1')).toBe(false);
    expect(a.releaseLease('A')).toBe(true);
    expect(b.tryAcquireLease(me('B'))).toEqual({ ok: true });
  });

  it('counts a lease whose holder pid is dead on this host as free', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const pid = deadPid();
    const old = new PartitionStore(env, 'p1');
    expect(old.tryAcquireLease({ pid, host, token: 'crashed' })).toEqual({ ok: true });
    const next = new PartitionStore(env, 'p1');
    expect(next.tryAcquireLease(me('new'))).toEqual({ ok: true });
    // The old owner is fenced off: its checkpoint must not land.
    expect(() => old.commit({ epoch: 1, positions: {}, outbox: [] })).toThrow(/lost its lease/);
    expect(() => next.commit({ epoch: 1, positions: {}, outbox: [] })).not.toThrow();
  });

  it('does not expire a holder on another host, whatever its pid', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const remote = new PartitionStore(env, 'p1');
    expect(remote.tryAcquireLease({ pid: deadPid(), host: `${host}-elsewhere`, token: 'remote' })).toEqual({ ok: true });
    const r = new PartitionStore(env, 'p1').tryAcquireLease(me('local'));
    expect(r.ok).toBe(false);
  });

  it('refuses to take a lease over uncommitted state, and forgets stale reads when it does', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const writer = new PartitionStore(env, 'p1');
    writer.valueState<number>('op', 'v').put('k', 1);
    expect(() => writer.tryAcquireLease(me('W'))).toThrow(/uncommitted/);

    const reader = new PartitionStore(env, 'p1');
    expect(reader.valueState<number>('op', 'v').get('k')).toBeUndefined(); // cached as absent
    writer.commit({ epoch: 1, positions: {}, outbox: [] });
    expect(reader.tryAcquireLease(me('R'))).toEqual({ ok: true });
    expect(reader.valueState<number>('op', 'v').get('k')).toBe(1);
  });
});

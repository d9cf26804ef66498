/**
 * Partition leases: which process may run an actor when several processes
 * share one state dir (e.g. during a hand-over between an old and a new
 * process).
 *
 * Stored in the `meta` db, each change in its own small durable transaction:
 *
 *   key   [actorId, 'lease']
 *   value { pid, host, token, acquiredAt }   (msgpack)
 *
 * The read and the write happen in one write transaction, and LMDB allows one
 * writer at a time across threads and processes, so two contenders cannot
 * both win. A lease is free when absent, when it carries our own token, or
 * when its holder is on this host and its pid no longer exists. A holder on
 * another host never expires here: such a setup needs an external
 * coordinator, since a shared LMDB dir on a network filesystem is not
 * supported by LMDB anyway.
 */
import type { BinaryDb } from './env.ts';
import { encodeValue, decodeValue } from './codec.ts';

export interface LeaseOwner {
  pid: number;
  host: string;
  token: string;
}

export interface LeaseHolder extends LeaseOwner {
  acquiredAt: number;
}

export type LeaseResult = { ok: true } | { ok: false; holder: LeaseHolder };

export function leaseKey(actorId: string): [string, string] {
  return [actorId, 'lease'];
}

/** Must run inside `transactionSync`. */
export function readLease(db: BinaryDb, actorId: string): LeaseHolder | undefined {
  const buf = db.getBinaryFast(leaseKey(actorId));
  return buf === undefined ? undefined : decodeValue<LeaseHolder>(buf);
}

export function tryAcquireLease(db: BinaryDb, actorId: string, owner: LeaseOwner, localHost: string): LeaseResult {
  return db.transactionSync((): LeaseResult => {
    const current = readLease(db, actorId);
    if (current !== undefined && current.token !== owner.token && !isStale(current, localHost)) {
      return { ok: false, holder: current };
    }
    const record: LeaseHolder = { pid: owner.pid, host: owner.host, token: owner.token, acquiredAt: Date.now() };
    db.putSync(leaseKey(actorId), encodeValue(record));
    return { ok: true };
  });
}

/** Releases the lease if `token` holds it; returns whether it did. */
export function releaseLease(db: BinaryDb, actorId: string, token: string): boolean {
  return db.transactionSync(() => {
    const current = readLease(db, actorId);
    if (current === undefined || current.token !== token) return false;
    db.removeSync(leaseKey(actorId));
    return true;
  });
}

function isStale(holder: LeaseHolder, localHost: string): boolean {
  return holder.host === localHost && !pidAlive(holder.pid);
}

/** `kill(pid, 0)` probes without signalling: ESRCH = gone, EPERM = exists but not ours. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Glue between the runtime and the LMDB state layer (state/): one
 * environment per worker thread, one PartitionStore per actor, and the lease
 * that hands an actor from one process to another on a shared state dir.
 */
import { closeStateEnv, openStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore, type LeaseOwner } from '../../state/partition-store.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { ActorStore } from './store-contract.ts';

export interface StoreEnvHandle {
  readonly env: StateEnv;
  close(): Promise<void>;
}

export function openStoreEnv(dir: string): StoreEnvHandle {
  const env = openStateEnv(dir, { noSync: process.env.SLUICE_STATE_NOSYNC === '1' });
  return { env, close: () => closeStateEnv(env) };
}

export interface ActorStoreHandle {
  readonly store: ActorStore;
  /** The concrete store, for restores from a changelog. */
  readonly raw: PartitionStore;
  /**
   * Waits until this process holds the actor's lease. Another live process
   * holds it while it finishes its final checkpoint after a revoke; a dead
   * holder's lease counts as free.
   */
  acquireLease(owner: LeaseOwner, timeoutMs: number): Promise<void>;
  releaseLease(token: string): void;
  close(): void;
}

export function openActorStore(h: StoreEnvHandle, actorId: string, opts: { cacheMaxEntries: number; maxDirtyEntries?: number }): ActorStoreHandle {
  const store = new PartitionStore(h.env, actorId, { cacheMaxEntries: opts.cacheMaxEntries, maxDirtyEntries: opts.maxDirtyEntries });
  return {
    store,
    raw: store,
    async acquireLease(owner, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const r = store.tryAcquireLease(owner);
        if (r.ok) return;
        if (Date.now() > deadline) {
          throw new SluiceError(
            ErrorCodes.TIMEOUT,
            `actor ${actorId}: lease still held by pid ${r.holder.pid} on ${r.holder.host} after ${timeoutMs} ms`,
            { retryable: true },
          );
        }
        await new Promise((res) => setTimeout(res, 50));
      }
    },
    releaseLease: (token) => void store.releaseLease(token),
    close: () => store.close(),
  };
}

/**
 * PartitionStore: all keyed state, timers, source positions and outbox of one
 * partition actor, in a shared state env (state/env.ts has the key layouts).
 *
 * Between checkpoints everything lives in memory: state writes in the bounded
 * cache (state/state-cache.ts), timer changes in the timer services. A read
 * that misses the cache asks LMDB only if the key filter (state/stored-keys.ts,
 * kept by `commit`) says LMDB may hold the key. `commit`
 * writes all of it, plus positions, epoch and outbox changes, in ONE durable
 * LMDB write transaction, so after a crash the actor sees exactly its last
 * checkpoint. Nothing reaches LMDB any other way (leases aside, which live
 * under their own key and do not touch checkpoint data).
 *
 * Life of an actor: construct (reads nothing yet) -> tryAcquireLease when
 * processes share the dir -> readMeta() to seek sources to the saved
 * positions and readOutbox() to re-deliver -> process records, using state
 * and timers, and commit whenever needsCheckpoint() says so or the epoch
 * ends -> close(). commit() is synchronous and durable when it returns,
 * unless it runs inside a transaction of the caller's (env.root.transactionSync,
 * as a worker does to commit several actors with one fsync): it is then a
 * child transaction, durable when the outer one commits.
 *
 * Threading: a store belongs to one actor on one thread; it is not shared.
 * `commit`, `drop` and the lease calls block the thread while they wait for
 * LMDB's single writer lock, which all threads and processes of the env
 * share, and while the commit is fsync'ed.
 */
import { hostname } from 'node:os';
import type { Key } from 'lmdb';
import { maybeCheckReaders, type StateEnv, type BinaryDb } from './env.ts';
import type { StateKey } from './key-order.ts';
import { RANGE_END } from './key-order.ts';
import { StateCache } from './state-cache.ts';
import { StoredKeys } from './stored-keys.ts';
import type { StateContext, StoredOwner } from './state-context.ts';
import { encodedElementBytes } from './state-context.ts';
import { ValueStateHandle, type ValueState } from './value-state.ts';
import { MapStateHandle, type MapState, type KeySlot } from './map-state.ts';
import { TimerServiceImpl, type TimerService, type TimerKind } from './timer-service.ts';
import { appendOutbox, ackOutbox, readOutbox, dropOutbox, type OutboxBatch } from './outbox.ts';
import { readCheckpointMeta, writeCheckpointMeta, checkpointKey, type CheckpointMeta } from './checkpoint-meta.ts';
import * as lease from './lease.ts';
import { removeRange } from './lmdb-ranges.ts';
import { encodeValue } from './codec.ts';
import { bump, copyCounts, writeRestoredEntries, type RestoredEntry } from './restore-entries.ts';
import { SluiceError, ErrorCodes } from '../engine/errors.ts';

export type { PartitionStoreOptions, CheckpointView, CommitInput, ChangeRecorder, CommitResult, StoreStats } from './partition-store-types.ts';
import { checkCommitInput, type PartitionStoreOptions, type CheckpointView, type CommitInput, type CommitResult, type StoreStats } from './partition-store-types.ts';
export type { LeaseOwner, LeaseHolder, LeaseResult } from './lease.ts';
export type { OutboxAppend, OutboxBatch } from './outbox.ts';

const TIMER_VALUE = Buffer.from([1]);

export class PartitionStore implements StateContext {
  readonly actorId: string;
  readonly db: BinaryDb;
  readonly cache: StateCache;
  readonly storedKeys: StoredKeys;
  private readonly env: StateEnv;
  private readonly maxDirty: number;
  private readonly handles = new Map<string, ValueStateHandle<unknown> | MapStateHandle<unknown>>();
  private readonly timerServices = new Map<string, TimerServiceImpl>();
  private pendingClears: KeySlot[] = [];
  private readonly actorBytes: number;
  private counters: { stateKeys: number; stateBytes: number; byOperator?: Record<string, [number, number]> } | undefined;
  private leaseToken: string | undefined;
  private closed = false;
  private readonly onClear = (slot: KeySlot): void => {
    this.pendingClears.push(slot);
  };

  constructor(env: StateEnv, actorId: string, options: PartitionStoreOptions = {}) {
    if (typeof actorId !== 'string' || actorId.length === 0) {
      throw new SluiceError(ErrorCodes.STATE, 'actorId must be a non-empty string');
    }
    this.env = env;
    this.actorId = actorId;
    this.db = env.state;
    const max = options.cacheMaxEntries ?? 100_000;
    this.cache = new StateCache(max);
    this.storedKeys = new StoredKeys(env.state, actorId);
    this.maxDirty = options.maxDirtyEntries ?? max;
    this.actorBytes = encodedElementBytes(actorId);
  }

  prefixBytes(operator: string, name: string): number {
    return this.actorBytes + 1 + encodedElementBytes(operator) + 1 + encodedElementBytes(name) + 1;
  }

  valueState<T>(operator: string, name: string): ValueState<T> {
    const id = handleId(operator, name);
    const h = this.handles.get(id);
    if (h instanceof ValueStateHandle) return h as ValueStateHandle<T>;
    if (h !== undefined) throw kindClash(operator, name, 'map');
    const created = new ValueStateHandle<T>(this, operator, name);
    this.handles.set(id, created as ValueStateHandle<unknown>);
    return created;
  }

  mapState<V>(operator: string, name: string): MapState<V> {
    const id = handleId(operator, name);
    const h = this.handles.get(id);
    if (h instanceof MapStateHandle) return h as MapStateHandle<V>;
    if (h !== undefined) throw kindClash(operator, name, 'value');
    const created = new MapStateHandle<V>(this, operator, name, this.onClear);
    this.handles.set(id, created as MapStateHandle<unknown>);
    return created;
  }

  /** The operator's timers, loaded from LMDB on first use. */
  timers(operator: string): TimerService {
    let t = this.timerServices.get(operator);
    if (t === undefined) {
      t = new TimerServiceImpl(this.actorId, operator);
      this.loadTimers(t);
      this.timerServices.set(operator, t);
    }
    return t;
  }

  /** Live timers of every operator of this partition: all of them, or those of one kind and tag. */
  timerCount(kind?: TimerKind, tag?: string): number {
    let n = 0;
    for (const t of this.timerServices.values()) {
      if (kind === undefined) n += t.size('event') + t.size('processing');
      else n += t.sizeTagged(kind, tag);
    }
    return n;
  }

  /** True when enough is dirty that the engine should checkpoint now. */
  needsCheckpoint(): boolean {
    return this.dirtyCount() > this.maxDirty;
  }

  readMeta(): CheckpointView | undefined {
    const m = readCheckpointMeta(this.env.meta, this.actorId);
    if (m === undefined) return undefined;
    const view: CheckpointView = { positions: m.positions, epoch: m.epoch };
    if (m.extra !== undefined) view.extra = m.extra;
    return view;
  }

  readOutbox(): OutboxBatch[] {
    return readOutbox(this.env.outbox, this.actorId);
  }

  commit(input: CommitInput): CommitResult {
    this.checkOpen();
    checkCommitInput(input);
    const t0 = performance.now();
    maybeCheckReaders(this.env, Date.now());
    let keys = 0;
    let bytes = 0;
    let next: CheckpointMeta | undefined;
    try {
      this.db.transactionSync(() => {
        const prev = readCheckpointMeta(this.env.meta, this.actorId);
        if (prev !== undefined && !(input.epoch > prev.epoch)) {
          throw new SluiceError(ErrorCodes.STATE, `checkpoint epoch ${input.epoch} is not after the committed epoch ${prev.epoch}`);
        }
        this.checkLeaseInTxn();
        // After restoreEntries() there is no checkpoint record yet: the restore's counters carry over.
        let stateKeys = prev?.stateKeys ?? this.counters?.stateKeys ?? 0;
        let stateBytes = prev?.stateBytes ?? this.counters?.stateBytes ?? 0;
        const byOperator = copyCounts(prev?.byOperator ?? this.counters?.byOperator);

        // (a) state: clears first, then every dirty entry once.
        const rec = input.recorder;
        const known = this.storedKeys;
        for (const slot of this.pendingClears) {
          const range = slot.range();
          const seed = slot.seed;
          const r = removeRange(this.db, range.start, range.end, (k: Key) => {
            known.removed(seed, slot.key, (k as StateKey[])[4]);
            rec?.('state', k, null);
          });
          keys += r.keys;
          stateKeys -= r.keys;
          stateBytes -= r.bytes;
          bump(byOperator, (range.start as unknown[])[1], -r.keys, -r.bytes);
        }
        const dirty = this.cache.dirty;
        for (let i = 0; i < dirty.length; i++) {
          const e = dirty[i];
          const owner = e.owner as StoredOwner;
          const k = owner.lmdbKey(e);
          // Bytes stored before this commit, 0 if absent; looked up only for blind writes.
          let old = e.storedSize;
          if (old < 0) old = known.knownAbsent(owner.seed, e.key, e.field) ? 0 : (this.db.getBinaryFast(k)?.length ?? 0);
          if (e.value === undefined) {
            e.pendingSize = 0;
            if (old === 0) continue;
            this.db.removeSync(k);
            known.removed(owner.seed, e.key, e.field);
            rec?.('state', k, null);
            stateKeys--;
            stateBytes -= old;
            bump(byOperator, (k as unknown[])[1], -1, -old);
          } else {
            const buf = this.encodeEntry(e.value, k);
            this.db.putSync(k, buf);
            if (old === 0) known.added(owner.seed, e.key, e.field);
            rec?.('state', k, buf);
            e.pendingSize = buf.length;
            bytes += buf.length;
            stateBytes += buf.length - old;
            if (old === 0) stateKeys++;
            bump(byOperator, (k as unknown[])[1], old === 0 ? 1 : 0, buf.length - old);
          }
          keys++;
        }

        // (b) timers
        for (const t of this.timerServices.values()) {
          for (const timer of t.dirty) {
            const k = t.lmdbKey(timer);
            if (timer.live) this.env.timers.putSync(k, TIMER_VALUE);
            else this.env.timers.removeSync(k);
            rec?.('timers', k, timer.live ? TIMER_VALUE : null);
            keys++;
          }
        }

        input.recorded?.();

        // (d, e) outbox: acknowledged epochs go first, then this epoch's records.
        if (input.ackEpochsUpTo !== undefined) keys += ackOutbox(this.env.outbox, this.actorId, input.ackEpochsUpTo).keys;
        const appended = appendOutbox(this.env.outbox, this.actorId, input.epoch, input.outbox);
        keys += appended.keys;
        bytes += appended.bytes;

        // (c) the checkpoint record itself.
        next = { epoch: input.epoch, positions: input.positions, extra: input.extra, stateKeys, stateBytes, byOperator, committedAt: Date.now() };
        bytes += writeCheckpointMeta(this.env.meta, this.actorId, next);
        keys++;
      });
    } catch (err) {
      // The transaction aborted: memory still holds every change, dirty. The key
      // filter may have dropped slots LMDB still holds: it is rebuilt.
      this.storedKeys.invalidate();
      if (err instanceof SluiceError) throw err;
      throw new SluiceError(ErrorCodes.STATE, `checkpoint commit of ${this.actorId} failed: ${(err as Error).message}`, {
        cause: err,
      });
    }
    this.cache.markAllClean();
    for (const slot of this.pendingClears) slot.clearCommitted();
    this.pendingClears = [];
    for (const t of this.timerServices.values()) t.markClean();
    const m = next as CheckpointMeta;
    this.counters = { stateKeys: m.stateKeys, stateBytes: m.stateBytes, byOperator: m.byOperator };
    return { durationMs: performance.now() - t0, bytes, keysWritten: keys };
  }

  stats(): StoreStats {
    if (this.counters === undefined) {
      const m = readCheckpointMeta(this.env.meta, this.actorId);
      this.counters = { stateKeys: m?.stateKeys ?? 0, stateBytes: m?.stateBytes ?? 0, byOperator: m?.byOperator };
    }
    return {
      cachedEntries: this.cache.size,
      dirtyEntries: this.cache.dirtyCount,
      stateKeys: this.counters.stateKeys,
      stateBytes: this.counters.stateBytes,
      byOperator: this.counters.byOperator ?? {},
    };
  }

  /** Deletes all of this actor's state, timers, checkpoint record and outbox (not its lease). */
  drop(): void {
    this.checkOpen();
    const a = this.actorId;
    try {
      this.db.transactionSync(() => {
        removeRange(this.db, [a], [a, RANGE_END]);
        removeRange(this.env.timers, [a], [a, RANGE_END]);
        dropOutbox(this.env.outbox, a);
        this.env.meta.removeSync(checkpointKey(a));
      });
    } catch (err) {
      throw new SluiceError(ErrorCodes.STATE, `drop of ${a} failed: ${(err as Error).message}`, { cause: err });
    }
    this.resetMemory();
    this.counters = { stateKeys: 0, stateBytes: 0 };
  }

  /**
   * Writes entries replicated from a changelog (state and timer keys of this
   * actor, as ChangeRecorder saw them; null deletes) in transactions of
   * `batch` entries, then forgets memory so timers and state are re-read.
   * Used after drop() to rebuild an actor's state on a new machine; the
   * caller commits the checkpoint record (positions, epoch) afterwards.
   */
  restoreEntries(entries: ReadonlyArray<RestoredEntry>, batch = 10_000): void {
    this.checkOpen();
    const counts = writeRestoredEntries(this.db, this.env.timers, this.actorId, entries, batch, this.counters ?? { stateKeys: 0, stateBytes: 0 });
    this.resetMemory();
    this.counters = counts;
  }

  /**
   * Takes the actor's lease. On success, anything this store had read before
   * is discarded and re-read on demand (the previous holder may have
   * committed since). Fails with ILLEGAL_STATE if this store has uncommitted
   * changes while not already holding the lease.
   */
  tryAcquireLease(owner: lease.LeaseOwner): lease.LeaseResult {
    this.checkOpen();
    const wasHeld = this.leaseToken !== undefined && this.leaseToken === owner.token;
    if (!wasHeld && this.dirtyCount() > 0) {
      throw new SluiceError(ErrorCodes.ILLEGAL_STATE, `actor ${this.actorId} has uncommitted state and no lease`);
    }
    const r = lease.tryAcquireLease(this.env.meta, this.actorId, owner, hostname());
    if (r.ok) {
      this.leaseToken = owner.token;
      if (!wasHeld) this.resetMemory();
    }
    return r;
  }

  /** Releases the lease if `token` holds it; returns whether it did. */
  releaseLease(token: string): boolean {
    const released = lease.releaseLease(this.env.meta, this.actorId, token);
    if (token === this.leaseToken) this.leaseToken = undefined;
    return released;
  }

  /**
   * Forgets memory; uncommitted changes are lost, as in a crash. The shared
   * env stays open: close it with closeStateEnv when the thread is done.
   */
  close(): void {
    this.closed = true;
    this.resetMemory();
    this.handles.clear();
    this.timerServices.clear();
  }

  private dirtyCount(): number {
    let n = this.cache.dirtyCount + this.pendingClears.length;
    for (const t of this.timerServices.values()) n += t.dirty.size;
    return n;
  }

  private resetMemory(): void {
    this.cache.reset();
    // Whoever wrote LMDB since (another lease holder, a restore) did not tell the filter.
    this.storedKeys.invalidate();
    for (const h of this.handles.values()) h.reset();
    this.pendingClears = [];
    this.counters = undefined;
    for (const t of this.timerServices.values()) {
      t.reset();
      this.loadTimers(t);
    }
  }

  private loadTimers(t: TimerServiceImpl): void {
    for (const key of this.env.timers.getKeys(t.range(RANGE_END))) {
      const [, , kind, ts, k, tag] = key as [string, string, TimerKind, number, StateKey, string | null];
      t.loadStored(kind, ts, k, tag ?? undefined);
    }
  }

  private encodeEntry(value: unknown, key: unknown): Buffer {
    try {
      return encodeValue(value);
    } catch (err) {
      throw new SluiceError(ErrorCodes.STATE, `cannot encode state value at ${JSON.stringify(key)}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }

  private checkLeaseInTxn(): void {
    if (this.leaseToken === undefined) return;
    const holder = lease.readLease(this.env.meta, this.actorId);
    if (holder?.token !== this.leaseToken) {
      throw new SluiceError(ErrorCodes.STATE, `actor ${this.actorId} lost its lease (held by ${holder ? `pid ${holder.pid}` : 'nobody'})`);
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError(ErrorCodes.ILLEGAL_STATE, `partition store ${this.actorId} is closed`);
  }
}

function handleId(operator: string, name: string): string {
  if (typeof operator !== 'string' || typeof name !== 'string') {
    throw new SluiceError(ErrorCodes.STATE, 'operator and state name must be strings');
  }
  return `${operator}\u0000${name}`;
}

function kindClash(operator: string, name: string, existing: string): SluiceError {
  return new SluiceError(ErrorCodes.STATE, `state ${operator}/${name} is already a ${existing} state`);
}

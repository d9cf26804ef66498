/**
 * The types of PartitionStore's interface (state/partition-store.ts): its
 * options, what a checkpoint commit takes (and the check of it) and returns,
 * and its statistics.
 */
import type { Key } from 'lmdb';
import { SluiceError, ErrorCodes } from '../engine/errors.ts';
import type { OutboxAppend } from './outbox.ts';

export interface PartitionStoreOptions {
  /** Clean entries kept in memory beyond the dirty ones. Default 100,000. */
  cacheMaxEntries?: number;
  /** needsCheckpoint() turns true above this many dirty entries + timers. Default cacheMaxEntries. */
  maxDirtyEntries?: number;
}

export interface CheckpointView {
  positions: Record<string, number>;
  epoch: number;
  extra?: unknown;
}

export interface CommitInput {
  /** Must be greater than the last committed epoch. */
  epoch: number;
  /** Next offset to read per source partition, e.g. { "orders:3": 1201 }. */
  positions: Record<string, number>;
  extra?: unknown;
  /** Records produced in this epoch and not yet delivered, per sink. */
  outbox: OutboxAppend[];
  /** Delete outbox entries of epochs <= this (applied before the appends). */
  ackEpochsUpTo?: number;
  /** Sees every state and timer write (see ChangeRecorder). */
  recorder?: ChangeRecorder;
  /** Called after the recorder saw the commit's last write, before the outbox is written (in the same transaction). */
  recorded?: () => void;
}

/**
 * Receives every state and timer write of a commit, inside its transaction:
 * the changelog (engine/runtime/changelog.ts) replicates them to Kafka.
 * `key` is the LMDB key (an array starting with the actor id), `value` the
 * stored bytes, or null for a delete.
 */
export type ChangeRecorder = (db: 'state' | 'timers', key: Key, value: Buffer | null) => void;

export interface CommitResult {
  durationMs: number;
  /** Value bytes written. */
  bytes: number;
  /** LMDB entries put or removed (state, timers, outbox, meta). */
  keysWritten: number;
}

export interface StoreStats {
  cachedEntries: number;
  dirtyEntries: number;
  stateKeys: number;
  stateBytes: number;
  /** The same two counts per operator: { operator: [keys, bytes] }. */
  byOperator: Record<string, [number, number]>;
}

export function checkCommitInput(input: CommitInput): void {
  if (typeof input.epoch !== 'number' || !Number.isFinite(input.epoch)) {
    throw new SluiceError(ErrorCodes.STATE, `checkpoint epoch must be a finite number, got ${String(input.epoch)}`);
  }
  if (input.positions === null || typeof input.positions !== 'object') {
    throw new SluiceError(ErrorCodes.STATE, 'checkpoint positions must be an object');
  }
  if (!Array.isArray(input.outbox)) throw new SluiceError(ErrorCodes.STATE, 'checkpoint outbox must be an array');
}

/**
 * What a partition actor needs from its state store (state/partition-store.ts
 * implements it). Kept as an interface so the runtime can be tested with
 * faults injected around the store, and so the store stays replaceable.
 */
import type { Key as LmdbKey } from 'lmdb';
import type { Key, MapState, ValueState } from '../contracts/operator.ts';

export interface StoredTimer {
  kind: 'event' | 'processing';
  ts: number;
  key: Key;
  tag?: string;
}

export interface TimerStore {
  register(kind: 'event' | 'processing', ts: number, key: Key, tag?: string): void;
  delete(kind: 'event' | 'processing', ts: number, key: Key, tag?: string): void;
  popDue(kind: 'event' | 'processing', upTo: number): StoredTimer[];
  next(kind: 'event' | 'processing'): number | undefined;
}

export interface CommitInput {
  epoch: number;
  positions: Record<string, number>;
  extra?: unknown;
  outbox: Array<{ sinkId: string; records: unknown[] }>;
  ackEpochsUpTo?: number;
  /** Sees every state and timer write of the commit (for the changelog). */
  recorder?: (db: 'state' | 'timers', key: LmdbKey, value: Buffer | null) => void;
  /** Called after the recorder's last write, before the outbox is written. */
  recorded?: () => void;
}

export interface ActorStore {
  valueState<T>(operator: string, name: string): ValueState<T>;
  mapState<V>(operator: string, name: string): MapState<V>;
  timers(operator: string): TimerStore;
  readMeta(): { positions: Record<string, number>; epoch: number; extra?: unknown } | undefined;
  readOutbox(): Array<{ epoch: number; sinkId: string; records: unknown[] }>;
  commit(input: CommitInput): { durationMs: number; bytes: number; keysWritten: number };
  needsCheckpoint(): boolean;
  /** Live timers: all of them, or those of one kind and tag (for status: window firings are event timers tagged "fire"). */
  timerCount(kind?: 'event' | 'processing', tag?: string): number;
  stats(): { cachedEntries: number; dirtyEntries: number; stateKeys: number; stateBytes: number; byOperator?: Record<string, [number, number]> };
  close(): void;
}

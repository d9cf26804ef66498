/**
 * The keyed state layer's public surface: open one env per state dir and
 * thread, then one PartitionStore per actor. See partition-store.ts for the
 * checkpoint contract and env.ts for the on-disk layout and durability.
 */
export { openStateEnv, closeStateEnv, type StateEnv, type StateEnvOptions } from './env.ts';
export {
  PartitionStore,
  type PartitionStoreOptions,
  type CommitInput,
  type CommitResult,
  type CheckpointView,
  type StoreStats,
  type LeaseOwner,
  type LeaseHolder,
  type LeaseResult,
  type OutboxAppend,
  type OutboxBatch,
} from './partition-store.ts';
export type { ValueState } from './value-state.ts';
export type { MapState } from './map-state.ts';
export type { TimerService, Timer, TimerKind } from './timer-service.ts';
export type { StateKey } from './key-order.ts';

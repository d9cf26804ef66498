/**
 * Per-partition delivery state of a group consumer, kept apart from kafkajs so
 * the rules are plain code with unit tests:
 *
 * - owned:    assigned to us in the current generation.
 * - ready:    the engine's onAssigned resolved and we have sought to its offset.
 *             Records of a partition that is not ready are never delivered.
 * - paused:   the engine asked for backpressure. Survives rebalances, so a
 *             partition that comes back stays paused until resumed.
 * - held:     not fetched, but what was fetched is delivered (the engine's
 *             input alignment). Ends when the partition is revoked.
 * A partition is fetched while it is ready, not paused and not held.
 * - position: the next offset to deliver. Records below it are dropped, so a
 *             refetch after a seek or a dropped batch cannot duplicate.
 *
 * A generation number guards onAssigned results: one that resolves after the
 * group has moved on (revoke, new join) must not mark anything ready.
 */
import { keyOf } from './partitions.ts';
import type { PartitionKey, TopicPartition } from './types.ts';

export class PartitionTracker {
  private generation = 0;
  private readonly owned = new Map<PartitionKey, TopicPartition>();
  private readonly ready = new Set<PartitionKey>();
  private readonly paused = new Set<PartitionKey>();
  private readonly held = new Set<PartitionKey>();
  private readonly positions = new Map<PartitionKey, number>();
  private readonly highWatermarks = new Map<PartitionKey, number>();

  /** Starts a generation owning exactly `tps`; none is ready yet. */
  assign(tps: TopicPartition[]): number {
    this.generation++;
    this.owned.clear();
    this.ready.clear();
    for (const tp of tps) this.owned.set(keyOf(tp), { topic: tp.topic, partition: tp.partition });
    for (const key of [...this.positions.keys()]) if (!this.owned.has(key)) this.positions.delete(key);
    for (const key of [...this.highWatermarks.keys()]) if (!this.owned.has(key)) this.highWatermarks.delete(key);
    return this.generation;
  }

  /**
   * onAssigned resolved for generation `gen`. `offset` >= 0 becomes the
   * position; -1 leaves it unknown until the first batch (committed/earliest).
   * Returns false, changing nothing, when the generation is stale.
   */
  markReady(gen: number, key: PartitionKey, offset: number): boolean {
    if (gen !== this.generation || !this.owned.has(key)) return false;
    if (offset >= 0) this.positions.set(key, offset);
    else this.positions.delete(key);
    this.ready.add(key);
    return true;
  }

  /** Stops all delivery at once and forgets positions; returns what was owned. */
  revokeAll(): TopicPartition[] {
    const revoked = [...this.owned.values()];
    for (const key of this.owned.keys()) this.held.delete(key);
    this.generation++;
    this.owned.clear();
    this.ready.clear();
    this.positions.clear();
    this.highWatermarks.clear();
    return revoked;
  }

  currentGeneration(): number {
    return this.generation;
  }

  isOwned(key: PartitionKey): boolean {
    return this.owned.has(key);
  }

  isReady(key: PartitionKey): boolean {
    return this.ready.has(key);
  }

  isPaused(key: PartitionKey): boolean {
    return this.paused.has(key);
  }

  canDeliver(key: PartitionKey): boolean {
    return this.ready.has(key) && !this.paused.has(key);
  }

  pause(key: PartitionKey): void {
    this.paused.add(key);
  }

  /** Returns true when the client may fetch the partition again (ready and not held). */
  resume(key: PartitionKey): boolean {
    this.paused.delete(key);
    return this.fetchable(key);
  }

  hold(key: PartitionKey): void {
    this.held.add(key);
  }

  /** Returns true when the client may fetch the partition again (it was held, is ready and not paused). */
  release(key: PartitionKey): boolean {
    return this.held.delete(key) && this.fetchable(key);
  }

  /** Ready, not paused and not held: the client fetches it. */
  fetchable(key: PartitionKey): boolean {
    return this.ready.has(key) && !this.paused.has(key) && !this.held.has(key);
  }

  position(key: PartitionKey): number | undefined {
    return this.positions.get(key);
  }

  /** Records up to `next - 1` were delivered. Positions never move backwards. */
  advance(key: PartitionKey, next: number): void {
    const cur = this.positions.get(key);
    if (cur === undefined || next > cur) this.positions.set(key, next);
  }

  noteHighWatermark(key: PartitionKey, hw: number): void {
    if (this.owned.has(key) && Number.isFinite(hw)) this.highWatermarks.set(key, hw);
  }

  assignment(): TopicPartition[] {
    return [...this.owned.values()].map((tp) => ({ ...tp }));
  }

  lag(): Map<PartitionKey, number> {
    const out = new Map<PartitionKey, number>();
    for (const key of this.owned.keys()) {
      const pos = this.positions.get(key);
      const hw = this.highWatermarks.get(key);
      if (pos !== undefined && hw !== undefined) out.set(key, Math.max(0, hw - pos));
    }
    return out;
  }
}

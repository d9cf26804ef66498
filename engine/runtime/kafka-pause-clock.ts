/**
 * How long each partition of a Kafka input has been paused by backpressure,
 * for metrics (sluice_source_paused_seconds_total) and `sluice status`:
 * finished pauses are kept after a revoke, as totals.
 */
export class PauseClock {
  /** Total of every finished pause, ms. */
  pausedMs = 0;
  private readonly since = new Map<number, number>();
  private readonly finished = new Map<number, number>();

  start(p: number, now = Date.now()): void {
    this.since.set(p, now);
  }

  end(p: number, now = Date.now()): void {
    const since = this.since.get(p);
    if (since === undefined) return;
    const ms = now - since;
    this.pausedMs += ms;
    this.finished.set(p, (this.finished.get(p) ?? 0) + ms);
    this.since.delete(p);
  }

  /** Partitions that were ever paused. */
  partitions(): IterableIterator<number> {
    return this.finished.keys();
  }

  /** Total pause of partition `p`, the current one included. */
  of(p: number, now: number): number {
    const since = this.since.get(p);
    return (this.finished.get(p) ?? 0) + (since === undefined ? 0 : now - since);
  }
}

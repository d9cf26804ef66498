/**
 * The metrics of one worker thread: one ActorMetrics per partition actor it
 * runs, plus the thread's own figures (event-loop busy time, heap).
 *
 * The main thread asks for them at scrape time ({t:'metrics'} in
 * protocol.ts); `collect` runs between two batches on the worker's event
 * loop and costs O(series), not O(records). Nothing is pushed between
 * scrapes, so a job nobody scrapes pays only for the observer hooks.
 */
import { performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import type { ActorStats } from '../engine/runtime/protocol.ts';
import { ActorMetrics } from './actor-metrics.ts';
import { MetricSet } from './catalog.ts';
import type { MetricFamilyJson } from './families.ts';

export class WorkerMetrics {
  readonly set = new MetricSet(['actor', 'worker']);
  private readonly actors = new Map<string, ActorMetrics>();

  constructor(
    private readonly job: string,
    private readonly workerId: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Binds an actor's series when it opens; pass the result to the actor as its observer. */
  openActor(actorId: string, partition: number, sourceIds: readonly string[], sinkIds: readonly string[]): ActorMetrics {
    const m = new ActorMetrics(this.set, this.job, this.workerId, partition, sourceIds, sinkIds, this.now);
    this.actors.set(actorId, m);
    return m;
  }

  /** The actor closed; `final` holds its last counters. */
  closeActor(actorId: string, final: ActorStats | undefined): void {
    const m = this.actors.get(actorId);
    if (!m) return;
    m.close(final);
    this.actors.delete(actorId);
  }

  /** Every family of this worker, current as of now, in prom-client's JSON form. */
  collect(stats: readonly ActorStats[]): MetricFamilyJson[] {
    for (const st of stats) this.actors.get(st.actorId)?.sync(st);
    const labels = { job: this.job, worker: String(this.workerId) };
    this.set.counter('sluice_worker_busy_seconds_total').bind(labels).set(performance.eventLoopUtilization().active / 1000);
    this.set.gauge('sluice_worker_heap_used_bytes').bind(labels).set(getHeapStatistics().used_heap_size);
    return this.set.toJSON();
  }
}

/**
 * Metrics of one job run on the main thread, served at one endpoint.
 *
 * A scrape asks every worker thread for its families ({t:'metrics'}), adds
 * the main thread's own (Kafka lag, mailbox depth, pauses, rebalances, job
 * state) and the process's Node.js metrics, and merges them (merge.ts). The
 * workers answer between two batches; the main thread waits for them without
 * blocking anything (it is a request like any other), at most
 * WORKER_TIMEOUT_MS: a worker that does not answer in time is left out of
 * that scrape and counted in sluice_metrics_worker_errors_total.
 */
import type { AddressInfo } from 'node:net';
import type { FromWorker } from '../engine/runtime/protocol.ts';
import type { JobRunner, JobState } from '../engine/runtime/job-runner.ts';
import type { WorkerHandle } from '../engine/runtime/worker-handle.ts';
import { MetricSet } from './catalog.ts';
import { MetricsEndpoint, type HealthReport, type ScrapeTarget } from './endpoint.ts';
import type { MetricFamilyJson } from './families.ts';
import { exposition, processFamilies } from './merge.ts';
import { RunnerStatus, type StatusReport } from './status.ts';

export const WORKER_TIMEOUT_MS = 2_000;

/** Every job state, so sluice_job_state has a series per state (a Record makes the list exhaustive). */
const JOB_STATES: Record<JobState, true> = { CREATED: true, STARTING: true, RUNNING: true, DRAINING: true, STOPPED: true, FAILED: true };

export interface MetricsOptions {
  port: number;
  /** Default 127.0.0.1; 0.0.0.0 lets a Prometheus on another host scrape. */
  host?: string;
}

export class RunnerMetrics implements ScrapeTarget {
  /** Counters persist across scrapes; gauges are rebuilt at each (see mainFamilies). */
  private readonly set = new MetricSet(['main']);
  private readonly endpoint = new MetricsEndpoint(this);
  private readonly startedAt = Date.now();
  private statusView: RunnerStatus | undefined;

  private constructor(private readonly runner: JobRunner) {}

  /** Starts the endpoint for `runner`; close() it when the run ends. */
  static async start(runner: JobRunner, o: MetricsOptions): Promise<RunnerMetrics> {
    const m = new RunnerMetrics(runner);
    await m.endpoint.listen(o.port, o.host ?? '127.0.0.1');
    return m;
  }

  get address(): AddressInfo {
    return this.endpoint.address!;
  }

  async close(): Promise<void> {
    await this.endpoint.close();
    await this.statusView?.close();
  }

  /** The status page's document (status.ts); made on the first request, once the job has started. */
  status(): Promise<StatusReport> {
    return (this.statusView ??= new RunnerStatus(this.runner, this.startedAt)).report();
  }

  async scrape(): Promise<string> {
    const job = this.runner.runtime.job;
    const [proc, workers] = await Promise.all([processFamilies(job), this.collectWorkers()]);
    return exposition([proc, this.mainFamilies(), ...workers]);
  }

  health(): HealthReport {
    const r = this.runner;
    const workers = r.workerHandles.map((w) => ({ id: w.id, state: w.lifecycle.state }));
    let newest = 0;
    for (const a of r.stats.values()) newest = Math.max(newest, a.lastCheckpointAt);
    const now = Date.now();
    // A partition whose sink keeps failing is not healthy, though the process is up: say which, and why.
    const stalled = r.stalls(now);
    return {
      job: r.runtime.job,
      state: r.state,
      ready: r.state === 'RUNNING' && workers.length > 0 && workers.every((w) => w.state === 'READY') && stalled.length === 0,
      stalled,
      partitions: r.partitionCount,
      workers,
      lastCheckpointAgeSeconds: newest > 0 ? (now - newest) / 1000 : null,
      uptimeSeconds: (now - this.startedAt) / 1000,
    };
  }

  private async collectWorkers(): Promise<MetricFamilyJson[][]> {
    // Bound at zero up front: a counter that appears at 1 hides its first increase from rate().
    for (const w of this.runner.workerHandles) this.set.counter('sluice_metrics_worker_errors_total').bind({ job: this.runner.runtime.job, worker: String(w.id) });
    const live = this.runner.workerHandles.filter((w) => w.lifecycle.is('READY', 'STOPPING'));
    const out = await Promise.all(live.map((w) => this.collectWorker(w)));
    return out.filter((f): f is MetricFamilyJson[] => f !== undefined);
  }

  private async collectWorker(w: WorkerHandle): Promise<MetricFamilyJson[] | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), WORKER_TIMEOUT_MS)));
      const msg = await Promise.race([w.request<Extract<FromWorker, { t: 'metrics' }>>({ t: 'metrics' }), timeout]);
      if (msg) return msg.families;
    } catch {
      // The worker stopped or failed between the state check and the answer.
    } finally {
      clearTimeout(timer);
    }
    this.set.counter('sluice_metrics_worker_errors_total').bind({ job: this.runner.runtime.job, worker: String(w.id) }).inc();
    return undefined;
  }

  /** The main thread's families, current as of now. */
  private mainFamilies(): MetricFamilyJson[] {
    const r = this.runner;
    const job = r.runtime.job;
    const s = this.set;
    for (const name of ['sluice_job_state', 'sluice_consumer_lag_records', 'sluice_mailbox_records'] as const) s.gauge(name).clear();
    for (const state of Object.keys(JOB_STATES)) s.gauge('sluice_job_state').bind({ job, state }).set(state === r.state ? 1 : 0);
    if (r.failedIn) s.counter('sluice_job_failures_total').bind({ job, ...r.failedIn }).set(1);
    const input = r.inputStats();
    if (!input) return s.toJSON();
    // Workers exist once the consumer can have partitions; '' covers a scrape in between.
    const worker = (p: number): string => (r.workerHandles.length > 0 ? String(r.workerFor(p).id) : '');
    for (const [key, lag] of r.lag()) {
      const colon = key.lastIndexOf(':');
      const p = Number(key.slice(colon + 1));
      s.gauge('sluice_consumer_lag_records').bind({ job, worker: worker(p), partition: String(p), topic: key.slice(0, colon) }).set(lag);
    }
    s.counter('sluice_rebalances_total').bind({ job }).set(input.rebalances);
    s.counter('sluice_input_alignment_holds_total').bind({ job }).set(input.alignmentHolds);
    for (const p of input.partitions) {
      const l = { job, worker: worker(p.partition), partition: String(p.partition) };
      if (p.owned) s.gauge('sluice_mailbox_records').bind(l).set(p.inflight);
      // A running total kept by KafkaInput: setting it keeps the counter monotonic.
      s.counter('sluice_source_paused_seconds_total').bind(l).set(p.pausedMs / 1000);
    }
    return s.toJSON();
  }
}

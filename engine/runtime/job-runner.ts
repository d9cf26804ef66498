/**
 * The main thread of a job: it plans the partitions, starts the workers,
 * places one partition actor per partition on them, feeds Kafka batches (via
 * kafka-input.ts) or lets embedded sources run, and drains on stop.
 *
 * Job lifecycle (an illegal transition throws):
 *
 *   CREATED ──start()──▶ STARTING ──▶ RUNNING ──stop()/input done──▶ DRAINING ──▶ STOPPED
 *      │                    │            │                               │
 *      └────────────────────┴────────────┴─────── failure ───────────────┴──▶ FAILED
 *
 * Partition p of every source is one actor, `p<p>`, placed on worker p mod N.
 */
import { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { resolveJob } from '../contracts/job.ts';
import type { SourceSpec } from '../contracts/sources.ts';
import { PipelineBuilder, type PipelineNode } from '../contracts/pipeline.ts';
import { RunnerMetrics } from '../../metrics/runner-metrics.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { DeliveryPolicy } from './delivery-policy.ts';
import { ensureChangelogTopics, statefulOperators, writesKafka } from './changelog.ts';
import { KafkaInput, type InputStats } from './kafka-input.ts';
import { checkBrokersReachable } from '../kafka/reachability.ts';
import { checkStateIdentity, identityOf } from './state-identity.ts';
import { Lifecycle } from './lifecycle.ts';
import { embeddedPartitions } from './embedded-partitions.ts';
import { attribute } from './failure-attribution.ts';
import type { JobRunnerOptions, JobState, JobSummary } from './job-runner-options.ts';
import type { ActorStats, FromWorker, RuntimeConfig } from './protocol.ts';
import { WorkerHandle } from './worker-handle.ts';
import { EPOCH_BOUNDS } from './checkpoint-schedule.ts';

export type { JobRunnerOptions, JobState, JobSummary } from './job-runner-options.ts';

const LEGAL: Record<JobState, readonly JobState[]> = {
  CREATED: ['STARTING', 'FAILED'],
  STARTING: ['RUNNING', 'DRAINING', 'FAILED'],
  RUNNING: ['DRAINING', 'FAILED'],
  DRAINING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

export class JobRunner {
  readonly lifecycle = new Lifecycle<JobState>('job', 'CREATED', LEGAL);
  readonly runtime: RuntimeConfig;
  private workers: WorkerHandle[] = [];
  private partitions = 0;
  private sources: Record<string, SourceSpec> = {};
  private kafka: KafkaInput | undefined;
  /** Latest stats per actor, kept after an actor closes so totals survive rebalances. */
  readonly stats = new Map<string, ActorStats>();
  /** Final stats of actors closed and reopened since (their counters restarted). */
  private readonly retired: ActorStats[] = [];
  private readonly finished = new Set<string>();
  private startedAt = 0;
  private done!: Promise<void>;
  private resolveDone!: () => void;
  private failure: Error | undefined;
  /** The component (operator, source, sink, kafka, worker) and partition ('' if none) that failed the job. */
  failedIn: { component: string; partition: string } | undefined;
  private readonly listeners: Array<(msg: FromWorker) => void> = [];
  private starting: Promise<void> | undefined;
  private metrics: RunnerMetrics | undefined;
  /** A sink failing this long makes the job unhealthy (stalls()). */
  readonly stallAfterMs: number;

  constructor(private readonly o: JobRunnerOptions) {
    const name = o.job.name;
    const stateDir = resolve(o.stateDir ?? join('.sluice', 'state', name));
    this.runtime = {
      job: name,
      appId: o.groupId ?? name,
      stateDir,
      outputDir: resolve(o.outputDir ?? join('.sluice', 'output', name)),
      brokers: o.brokers ?? [],
      embedded: true,
      epochTransactions: false,
      checkpointIntervalMs: o.checkpointIntervalMs ?? 1000,
      cacheMaxEntries: o.cacheMaxEntries ?? 100_000,
      maxEpochRecords: o.maxEpochRecords ?? EPOCH_BOUNDS.maxEpochRecords,
      maxUndeliveredRecords: o.maxUndeliveredRecords ?? EPOCH_BOUNDS.maxUndeliveredRecords,
      workerHeapMb: o.workerHeapMb ?? 0,
      pullBatch: 1024,
      metrics: o.metricsPort !== undefined,
      connectTimeoutMs: o.connectTimeoutMs ?? 15_000,
      delivery: o.delivery,
    };
    // Checked here, so that a bad setting is a usage error before any worker starts.
    this.stallAfterMs = new DeliveryPolicy(o.delivery).stallAfterMs;
    this.done = new Promise((r) => (this.resolveDone = r));
  }

  get state(): JobState {
    return this.lifecycle.state;
  }

  get partitionCount(): number {
    return this.partitions;
  }

  onWorkerMessage(fn: (msg: FromWorker) => void): void {
    this.listeners.push(fn);
  }

  async start(): Promise<void> {
    this.starting = this.startOnce();
    return this.starting;
  }

  private async startOnce(): Promise<void> {
    this.lifecycle.transition('STARTING');
    this.startedAt = Date.now();
    try {
      if (this.o.metricsPort !== undefined) this.metrics = await RunnerMetrics.start(this, { port: this.o.metricsPort, host: this.o.metricsHost });
      this.sources = resolveJob(this.o.job, this.o.settings).sources;
      const kinds = new Set(Object.values(this.sources).map((s) => s.kind));
      if (kinds.size === 0) throw new SluiceError(ErrorCodes.CONFIG, `job ${this.o.job.name} declares no sources`);
      if (kinds.has('kafka') && kinds.size > 1) {
        throw new SluiceError(ErrorCodes.CONFIG, `job ${this.o.job.name} mixes Kafka and embedded sources; use one kind`);
      }
      const embedded = !kinds.has('kafka');
      if (embedded && this.o.untilEnd) {
        throw new SluiceError(ErrorCodes.CONFIG, `--until end reads Kafka inputs to their end; job ${this.o.job.name} reads none (its embedded sources end by themselves, or never)`);
      }
      // A repartition topic's end is not known at start: this run writes it. Cutting it at its start
      // offsets would drop what the run itself repartitioned, so refuse rather than give short results.
      const internal = Object.entries(this.sources).find(([, s]) => s.kind === 'kafka' && s.internal === true);
      if (internal && this.o.untilEnd) {
        throw new SluiceError(ErrorCodes.CONFIG, `--until end does not support jobs with repartition stages yet: source ${internal[0]} of ${this.o.job.name} reads the internal topic ${(internal[1] as { topic: string }).topic}`);
      }
      (this.runtime as { embedded: boolean }).embedded = embedded;
      if (!embedded && this.runtime.brokers.length === 0) {
        throw new SluiceError(ErrorCodes.CONFIG, `job ${this.o.job.name} reads Kafka: give --brokers (or SLUICE_BROKERS)`);
      }
      if (embedded) {
        this.partitions = embeddedPartitions(this.sources);
        // An embedded job that writes Kafka needs the checkpoint topic for its epoch markers.
        if (this.runtime.brokers.length > 0 && writesKafka(this.o.job, this.o.settings)) {
          await this.checkBrokers();
          (this.runtime as { epochTransactions: boolean }).epochTransactions = true;
          const cfg = { brokers: this.runtime.brokers, clientId: `sluice-${this.o.job.name}` };
          await ensureChangelogTopics(cfg, this.runtime.appId, [], this.partitions);
        }
      } else {
        await this.checkBrokers();
        (this.runtime as { epochTransactions: boolean }).epochTransactions = true;
        this.kafka = new KafkaInput(this, this.sources, this.o.groupId ?? `sluice-${this.o.job.name}`, this.o.sessionTimeoutMs, this.o.untilEnd === true, this.o.offsetReset, this.o.maxInflightBytes, this.o.inputAlignmentMs);
        this.partitions = await this.kafka.checkPartitions();
        const cfg = { brokers: this.runtime.brokers, clientId: `sluice-${this.o.job.name}` };
        await ensureChangelogTopics(cfg, this.runtime.appId, statefulOperators(this.o.job, this.o.settings), this.partitions);
      }
      if (this.o.workers !== undefined && this.o.workers > this.partitions) {
        const idle = this.o.workers - this.partitions;
        const warn = this.o.onWarning ?? ((m: string) => void process.stderr.write(`sluice: warning: ${m}\n`));
        warn(`--workers ${this.o.workers} is more than the ${this.partitions} partitions of ${this.o.job.name}: ${idle} workers would have nothing to do; running ${this.partitions}`);
      }
      // Before anything opens the state: positions taken on another input must not be used here.
      checkStateIdentity(this.runtime.stateDir, identityOf(this.o.job.name, this.sources, this.partitions, this.kafka?.kafkaCluster), this.o.jobArg, this.o.adoptState === true);
      const n = Math.max(1, Math.min(this.o.workers ?? availableParallelism(), this.partitions));
      this.workers = Array.from({ length: n }, (_, i) =>
        new WorkerHandle(
          { workerId: i, jobModule: this.o.jobModule, settings: this.o.settings, runtime: this.runtime, crashAt: this.o.crashAt },
          (w, msg) => this.onMessage(w, msg),
          (w, err) => this.fail(err),
        ),
      );
      await Promise.all(this.workers.map((w) => w.start()));
      if (embedded) await Promise.all(Array.from({ length: this.partitions }, (_, p) => this.openActor(p)));
      else await this.kafka!.start();
      this.lifecycle.transition('RUNNING');
      // Every partition may have reached its end while the consumer was starting (an empty bounded run).
      this.maybeFinish();
    } catch (err) {
      await this.abort(err as Error);
      // A failure that came while starting (a worker's onStart, a source) aborted the rest:
      // what the start was waiting on then rejects with ABORTED, and the cause is the failure.
      throw this.failure ?? err;
    }
  }

  /** One line within the bound when no broker can be reached, before kafkajs retries and logs (reachability.ts). */
  private async checkBrokers(): Promise<void> {
    await checkBrokersReachable(this.runtime.brokers, { timeoutMs: this.o.connectTimeoutMs, hint: '--brokers or SLUICE_BROKERS' });
  }

  workerFor(partition: number): WorkerHandle {
    return this.workers[partition % this.workers.length];
  }

  async openActor(partition: number): Promise<Record<string, number>> {
    const msg = await this.workerFor(partition).request<Extract<FromWorker, { t: 'opened' }>>({ t: 'open', actorId: `p${partition}`, partition });
    return msg.positions;
  }

  async closeActor(partition: number): Promise<Record<string, number>> {
    const msg = await this.workerFor(partition).request<Extract<FromWorker, { t: 'closed' }>>({ t: 'close', actorId: `p${partition}` });
    return msg.positions;
  }

  private onMessage(_w: WorkerHandle, msg: FromWorker): void {
    switch (msg.t) {
      case 'stats':
        for (const a of msg.actors) {
          const prev = this.stats.get(a.actorId);
          // The partition was closed and reopened here (a rebalance): keep the old counters in the totals.
          if (prev && prev.instance !== a.instance) this.retired.push(prev);
          this.stats.set(a.actorId, a);
        }
        // They carry each actor's backpressure too (kafka-feeds.ts).
        this.kafka?.onWorkerMessage(msg);
        break;
      case 'finished':
        this.finished.add(msg.actorId);
        this.maybeFinish();
        break;
      case 'failed': {
        // Operator callbacks and sources name their partition already (topology.ts, embedded-pull.ts).
        const m = msg.error.message;
        const where = msg.actorId ? `partition ${msg.actorId.slice(1)}` : 'worker';
        this.fail(new SluiceError(msg.error.code, /\bpartition \d+/.test(m) ? m : `${where}: ${m}`));
        break;
      }
      default:
        this.kafka?.onWorkerMessage(msg);
    }
    for (const l of this.listeners) l(msg);
  }

  /** Input done in every partition (embedded sources ended, or a bounded Kafka run reached its end offsets): drain and stop. */
  private maybeFinish(): void {
    if ((this.runtime.embedded || this.o.untilEnd) && this.finished.size === this.partitions && this.lifecycle.is('RUNNING')) this.stop().catch(() => {});
  }

  /** The Kafka topics the job reads (empty in embedded mode). */
  get inputTopics(): string[] {
    return Object.values(this.sources).flatMap((s) => (s.kind === 'kafka' ? [s.topic] : []));
  }

  /** Resolves when the job has stopped (input done, stop(), or failure). */
  async wait(): Promise<JobSummary> {
    await this.done;
    if (this.failure) throw this.failure;
    return this.summary();
  }

  /** Drains: stop consuming, every actor takes a final checkpoint and delivers its output, workers exit. */
  async stop(): Promise<JobSummary> {
    // A stop (SIGTERM) while starting waits for the start: draining half-started
    // consumers and workers raced with the start and left them running.
    if (this.lifecycle.is('STARTING')) await this.starting?.catch(() => {});
    if (this.lifecycle.is('STARTING', 'RUNNING')) {
      this.lifecycle.transition('DRAINING');
      const timeout = this.o.shutdownTimeoutMs ?? 30_000;
      try {
        await this.kafka?.stop();
        await Promise.all(this.workers.map((w) => w.stop(timeout)));
        // A worker may have failed while the others drained.
        if (this.lifecycle.is('DRAINING')) this.lifecycle.transition('STOPPED');
      } catch (err) {
        this.failure ??= err as Error;
        this.failedIn ??= attribute(this.failure.message);
        if (!this.lifecycle.is('FAILED')) this.lifecycle.transition('FAILED');
        for (const w of this.workers) w.destroy(this.failure);
      }
      await this.metrics?.close();
      this.resolveDone();
    }
    await this.done;
    if (this.failure) throw this.failure;
    return this.summary();
  }

  /**
   * Every failure of a running job ends here (an operator callback other than
   * process(), a source, the Kafka input, a sink after its retries, a worker
   * crash): the job goes to FAILED, its workers are stopped where they are, and
   * wait() rejects with the error, which names the component, the partition
   * and the cause. `failedIn` is what the metrics count.
   */
  fail(err: Error): void {
    if (this.lifecycle.is('STOPPED', 'FAILED')) return;
    void this.abort(err);
  }

  private async abort(err: Error): Promise<void> {
    if (this.lifecycle.is('STOPPED', 'FAILED')) return;
    this.failure ??= err;
    this.failedIn ??= attribute(this.failure.message);
    this.lifecycle.transition('FAILED');
    for (const w of this.workers) w.destroy(this.failure);
    await this.kafka?.destroy();
    await this.metrics?.close();
    this.resolveDone();
  }

  summary(): JobSummary {
    let recordsIn = 0;
    const recordsOut: Record<string, number> = {};
    const deadLetters: Record<string, number> = {};
    const operatorCounts: Record<string, number> = {};
    let checkpoints = 0;
    const add = (into: Record<string, number>, from: Record<string, number>): void => {
      for (const [k, v] of Object.entries(from)) into[k] = (into[k] ?? 0) + v;
    };
    for (const a of [...this.retired, ...this.stats.values()]) {
      recordsIn += a.recordsIn.reduce((x, y) => x + y, 0);
      add(recordsOut, a.recordsOut);
      add(deadLetters, a.deadLetters);
      add(operatorCounts, a.operatorCounts);
      checkpoints += a.checkpoints;
    }
    return {
      job: this.o.job.name,
      state: this.lifecycle.state,
      elapsedMs: Date.now() - this.startedAt,
      recordsIn,
      recordsOut,
      deadLetters,
      operatorCounts,
      checkpoints,
      outputDir: this.runtime.outputDir,
      stateDir: this.runtime.stateDir,
    };
  }

  /** Every actor's latest stats, and the final stats of actors since reopened: sums over them only grow. */
  allStats(): ActorStats[] {
    return [...this.retired, ...this.stats.values()];
  }

  /** The pipeline's nodes, as every actor builds them (for the status page's graph). */
  pipelineNodes(): readonly PipelineNode[] {
    const b = new PipelineBuilder();
    this.o.job.pipeline(b, this.o.settings);
    return b.nodes;
  }

  /** This process in the consumer group: its client id (names it in `sluice status`), the group, the Kafka config (undefined in embedded mode). */
  get kafkaIdentity(): { clientId: string; groupId: string; brokers: string[]; topics: string[] } | undefined {
    const topics = Object.values(this.sources).flatMap((s) => (s.kind === 'kafka' ? [s.topic] : []));
    return this.kafka && { clientId: this.kafka.clientId, groupId: this.kafka.groupId, brokers: this.runtime.brokers, topics };
  }

  /**
   * Partitions whose sinks have been failing for at least stallAfterMs, with
   * the sink and the last error (from the workers' periodic stats, so up to a
   * second old). /healthz answers 503 while there is one.
   */
  stalls(now = Date.now()): Array<{ partition: number; sink: string; failingSeconds: number; failures: number; cause: string }> {
    const out: Array<{ partition: number; sink: string; failingSeconds: number; failures: number; cause: string }> = [];
    for (const a of this.stats.values()) {
      for (const s of a.stalls ?? []) {
        if (now - s.since >= this.stallAfterMs) out.push({ partition: a.partition, sink: s.sink, failingSeconds: (now - s.since) / 1000, failures: s.failures, cause: s.cause });
      }
    }
    return out.sort((x, y) => x.partition - y.partition);
  }

  /** Consumer lag per Kafka partition (empty in embedded mode). */
  lag(): Map<string, number> {
    return this.kafka?.lag() ?? new Map();
  }

  /** Kafka input figures for metrics (undefined in embedded mode). */
  inputStats(): InputStats | undefined {
    return this.kafka?.inputStats();
  }

  get workerHandles(): readonly WorkerHandle[] {
    return this.workers;
  }

  /** Where /metrics and /healthz are served (undefined without metricsPort, or before start()). */
  get metricsAddress(): { host: string; port: number } | undefined {
    const a = this.metrics?.address;
    return a && { host: a.address, port: a.port };
  }
}

/**
 * Everything one worker thread runs: the partition actors placed on it, the
 * sink drivers they share, periodic ticks (with their group commit:
 * worker-ticks.ts), the input loop of batches from the main thread
 * (worker-input.ts), and the embedded sources' pull loop (embedded-pull.ts).
 *
 * Worker lifecycle (an illegal transition throws):
 *
 *   CREATED ──start()──▶ STARTING ──▶ RUNNING ──shutdown──▶ STOPPING ──▶ STOPPED
 *      │                    │            │                      │
 *      └────────────────────┴────────────┴──── fatal error ─────┴──▶ FAILED
 */
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { JobDefinition, Settings } from '../contracts/job.ts';
import { resolveJob } from '../contracts/job.ts';
import { PipelineBuilder } from '../contracts/pipeline.ts';
import type { AnySinkDriver, SinkSpec } from '../contracts/sinks.ts';
import type { SourceSpec } from '../contracts/sources.ts';
import { WorkerMetrics } from '../../metrics/worker-metrics.ts';
import { ErrorCodes, SluiceError, serializeError } from '../errors.ts';
import { fileSink } from '../sinks/file-sink.ts';
import { kafkaSink } from '../sinks/kafka-sink.ts';
import { resolveCodec } from '../sources/codecs.ts';
import { FileReader, GeneratorReader } from '../sources/pull-reader.ts';
import { Lifecycle } from './lifecycle.ts';
import { PartitionActor, tickPeriodMs } from './partition-actor.ts';
import { WorkerTicks } from './worker-ticks.ts';
import { WorkerInput, type Slot } from './worker-input.ts';
import { EPOCH_BOUNDS } from './checkpoint-schedule.ts';
import { actorStats } from './actor-stats.ts';
import { DeliveryPolicy } from './delivery-policy.ts';
import { RestoreProgressPublisher } from './restore-progress.ts';
import type { ActorStats, FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { EmbeddedPuller, type InputBinding } from './embedded-pull.ts';
import { InputGate } from './input-gate.ts';
import { DLQ_MAX_VALUE_BYTES } from './dead-letter.ts';
import { openActorStore, type StoreEnvHandle, openStoreEnv } from './stores.ts';
import { DEAD_LETTER_SINK } from './topology.ts';
import { openChangelog, restoreFromChangelog, statefulOperators } from './changelog.ts';

export type WorkerState = 'CREATED' | 'STARTING' | 'RUNNING' | 'STOPPING' | 'STOPPED' | 'FAILED';

const LEGAL: Record<WorkerState, readonly WorkerState[]> = {
  CREATED: ['STARTING', 'FAILED'],
  STARTING: ['RUNNING', 'FAILED'],
  RUNNING: ['STOPPING', 'FAILED'],
  STOPPING: ['STOPPED', 'FAILED'],
  STOPPED: [],
  FAILED: [],
};

const STATS_MS = 1000;

export class WorkerHost {
  readonly lifecycle = new Lifecycle<WorkerState>('worker', 'CREATED', LEGAL);
  private def!: JobDefinition<Settings>;
  private sources!: Record<string, SourceSpec>;
  private sinkSpecs!: Record<string, SinkSpec>;
  private readonly drivers = new Map<string, AnySinkDriver>();
  private readonly direct = new Set<string>();
  /** Sinks that forward event time (SinkSpec.watermarks). */
  private readonly forwarding = new Set<string>();
  private env!: StoreEnvHandle;
  private readonly slots = new Map<string, Slot>();
  private timers: NodeJS.Timeout[] = [];
  private puller!: EmbeddedPuller;
  /** Restores from changelogs done by this worker (figures for status and metrics). */
  readonly restores: Array<{ actorId: string; records: number; keys: number; ms: number }> = [];
  /** Publishes restore progress for `sluice status` (restore-progress.ts); made on the first restore. */
  private restoreProgress: RestoreProgressPublisher | undefined;
  private statefulOps: string[] = [];
  /** The one path by which checkpoints start: the timer's ticks, and the batch loop's (worker-ticks.ts). */
  private ticks!: WorkerTicks;
  private readonly input = new WorkerInput(this.slots, (m) => this.post(m), () => this.ticks);
  private readonly metrics: WorkerMetrics | undefined;
  /** The one retry policy of every sink of this worker (delivery-policy.ts). */
  private readonly delivery: DeliveryPolicy;

  constructor(
    private readonly init: WorkerInit,
    private readonly post: (msg: FromWorker, transfer?: ArrayBuffer[]) => void,
    private readonly job: JobDefinition<Settings>,
  ) {
    if (init.runtime.metrics) this.metrics = new WorkerMetrics(init.runtime.job, init.workerId);
    this.delivery = new DeliveryPolicy(init.runtime.delivery);
  }

  async start(): Promise<void> {
    this.lifecycle.transition('STARTING');
    this.def = this.job;
    const resolved = resolveJob(this.def, this.init.settings);
    this.sources = resolved.sources;
    this.statefulOps = statefulOperators(this.def, this.init.settings);
    this.sinkSpecs = { ...resolved.sinks, [DEAD_LETTER_SINK]: this.deadLetterSpec() };
    const rt = this.init.runtime;
    for (const [id, spec] of Object.entries(this.sinkSpecs)) {
      if (spec.watermarks) this.forwarding.add(id);
      if (!spec.outbox) {
        this.direct.add(id);
        continue;
      }
      const d = spec.create();
      await d.open({
        job: rt.job,
        sinkId: id,
        workerId: this.init.workerId,
        runtime: { brokers: rt.brokers, stateDir: rt.stateDir, outputDir: rt.outputDir, embedded: rt.embedded, appId: rt.appId, connectTimeoutMs: rt.connectTimeoutMs },
      });
      this.drivers.set(id, d);
    }
    this.env = openStoreEnv(rt.stateDir);
    this.ticks = new WorkerTicks(this.env, () => [...this.slots.values()].map((s) => s.actor), (actor, err) => {
      actor.destroy(err);
      this.post({ t: 'failed', actorId: actor.id, error: serializeError(err), fatal: true });
    }, this.init.crashAt);
    this.puller = new EmbeddedPuller(this.slots, () => this.lifecycle.is('RUNNING'), rt.pullBatch, this.post);
    this.timers.push(setInterval(() => this.tick(), tickPeriodMs(rt.checkpointIntervalMs)));
    this.timers.push(setInterval(() => this.post({ t: 'stats', actors: this.stats() }), STATS_MS));
    this.lifecycle.transition('RUNNING');
    this.post({ t: 'ready' });
  }

  /**
   * Dead letters: the Kafka topic named by the job's `dlqTopic` setting if it
   * has one (embedded sources too: users-ingest polls HTTP but dead-letters to
   * `users_created.dlq`), else `<job>.dlq` on Kafka, or a local JSON-lines
   * directory in embedded mode.
   */
  private deadLetterSpec(): SinkSpec {
    const rt = this.init.runtime;
    const topic = this.init.settings.dlqTopic;
    if (typeof topic === 'string' && topic !== '') return kafkaSink({ topic, codec: 'json' });
    return rt.embedded ? fileSink({ dir: 'dlq', envelope: true }) : kafkaSink({ topic: `${rt.job}.dlq`, codec: 'json' });
  }

  handle(msg: ToWorker): void {
    switch (msg.t) {
      case 'batch':
        return this.input.onBatch(msg.actorId, msg.input, msg.wire);
      case 'end-input':
        return this.input.onEndInput(msg.actorId, msg.input);
      case 'open':
        return void this.reply(msg.id, msg.actorId, () => this.open(msg.id, msg.actorId, msg.partition));
      case 'close':
        return void this.reply(msg.id, msg.actorId, () => this.closeActor(msg.id, msg.actorId));
      case 'checkpoint':
        return void this.reply(msg.id, msg.actorId, async () => {
          await this.slot(msg.actorId).actor.checkpoint();
          this.post({ t: 'checkpointed', id: msg.id, actorId: msg.actorId });
        });
      case 'shutdown':
        return void this.reply(msg.id, undefined, () => this.shutdown(msg.id));
      case 'metrics':
        return this.post({ t: 'metrics', id: msg.id, families: this.metrics?.collect(this.stats()) ?? [] });
    }
  }

  private async reply(id: number, actorId: string | undefined, fn: () => Promise<void>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.post({ t: 'failed', id, actorId, error: serializeError(err), fatal: false });
    }
  }

  private slot(actorId: string): Slot {
    const s = this.slots.get(actorId);
    if (!s) throw new SluiceError(ErrorCodes.ILLEGAL_STATE, `worker ${this.init.workerId}: no actor ${actorId}`);
    return s;
  }

  private async open(id: number, actorId: string, partition: number): Promise<void> {
    if (this.slots.has(actorId)) throw new SluiceError(ErrorCodes.ILLEGAL_STATE, `actor ${actorId} is already open on this worker`);
    const rt = this.init.runtime;
    // The store's dirty entries are one bound of the epoch (checkpoint-schedule.ts): each is a changelog record.
    const store = openActorStore(this.env, actorId, { cacheMaxEntries: rt.cacheMaxEntries, maxDirtyEntries: rt.maxEpochRecords ?? EPOCH_BOUNDS.maxEpochRecords });
    const leaseToken = randomUUID();
    await store.acquireLease({ pid: process.pid, host: hostname(), token: leaseToken }, 60_000);
    const b = new PipelineBuilder();
    this.def.pipeline(b, this.init.settings);
    const inputs: InputBinding[] = Object.entries(this.sources).map(([sourceId, spec]) => ({
      sourceId,
      spec,
      codec: spec.kind === 'kafka' ? resolveCodec(spec.codec) : undefined,
      reader: spec.kind === 'generator' ? new GeneratorReader(spec, partition) : spec.kind === 'file' ? new FileReader(spec, partition) : undefined,
      pending: false,
      finished: false,
    }));
    const hasCustom = inputs.some((i) => i.spec.kind === 'custom');
    // Kafka jobs replicate each checkpoint to changelog topics, and may have to restore (changelog.ts).
    const { changelog, sinks, restoreFrom } = rt.epochTransactions
      ? await openChangelog(this.kafkaConfig(), rt.appId, partition, this.drivers, store.store.readMeta()?.extra, rt.embedded)
      : { changelog: undefined, sinks: this.drivers, restoreFrom: undefined };
    const observer = this.metrics?.openActor(actorId, partition, Object.keys(this.sources), Object.keys(this.sinkSpecs));
    const actor = new PartitionActor({
      job: rt.job,
      actorId,
      partition,
      group: rt.appId,
      dlqMaxValueBytes: typeof this.init.settings.dlqMaxValueBytes === 'number' ? this.init.settings.dlqMaxValueBytes : DLQ_MAX_VALUE_BYTES,
      inputs: inputs.map((i) => ({
        sourceId: i.sourceId,
        topic: i.spec.kind === 'kafka' ? i.spec.topic : undefined,
        watermark: {
          maxOutOfOrdernessMs: i.spec.watermark?.maxOutOfOrdernessMs ?? 0,
          idleTimeoutMs: i.spec.watermark?.idleTimeoutMs ?? 0,
          idleAdvance: i.spec.watermark?.idleAdvance,
          upstream: i.spec.kind === 'kafka' && i.spec.internal === true && i.spec.watermark?.upstream === true,
        },
      })),
      nodes: b.nodes,
      store: store.store,
      sinks,
      directSinks: this.direct,
      watermarkSinks: this.forwarding,
      checkpointIntervalMs: rt.checkpointIntervalMs,
      maxEpochRecords: rt.maxEpochRecords,
      maxUndeliveredRecords: rt.maxUndeliveredRecords,
      // With whether the actor is still backpressured: the Kafka input resumes when it is not.
      onDelivered: (epoch, positions) => {
        this.post({ t: 'delivered', actorId, epoch, positions, backpressured: actor.backpressured });
        if (slot.queued.length > 0) setImmediate(() => this.input.drain(slot));
      },
      snapshotSources: hasCustom
        ? () => Object.fromEntries(inputs.filter((i) => i.custom).map((i) => [i.sourceId, i.custom!.snapshot()]))
        : undefined,
      fault: this.ticks.fault,
      observer,
      delivery: this.delivery,
      transaction: changelog && ((sinkId, epoch) => changelog.transaction(sinkId, epoch)),
      // A sink gave up: the job fails now, with the queue's one-line reason (see outbox.ts).
      onFailed: (err) => {
        actor.destroy(err);
        this.post({ t: 'failed', actorId, error: serializeError(err), fatal: true });
      },
      changelog: changelog !== undefined && !rt.embedded,
      markers: changelog !== undefined,
    });
    inputs.forEach((b, i) => (b.gate = new InputGate(actor, i, b.spec, b.codec)));
    const slot: Slot = { actor, store, inputs, leaseToken, finishedReported: false, changelog, queued: [], ready: false, opening: Promise.resolve() };
    this.slots.set(actorId, slot);
    if (restoreFrom) {
      // The consumer can seek now; its batches wait in `queued` while the state is rebuilt,
      // and the other partitions of this worker keep processing meanwhile.
      this.post({ t: 'opened', id, actorId, positions: restoreFrom.positions });
      const marker = restoreFrom;
      slot.opening = (async () => {
        // Only jobs with state have a restores topic (ensureChangelogTopics); the others restore nothing.
        const progress = this.statefulOps.length > 0 ? (this.restoreProgress ??= new RestoreProgressPublisher(this.kafkaConfig(), rt.appId)).begin(partition) : undefined;
        observer?.restoreProgress(0, 0);
        const r = await restoreFromChangelog(this.kafkaConfig(), rt.appId, this.statefulOps, partition, store.raw, marker, (records, total) => {
          progress?.progress(records, total);
          observer?.restoreProgress(records, total);
        });
        observer?.restored(r.records);
        await progress?.done(r.records, r.keys);
        const rate = r.ms > 0 ? Math.round((r.keys / r.ms) * 1000) : r.keys;
        process.stderr.write(`sluice: ${actorId} restored ${r.keys} keys from ${r.records} changelog records in ${r.ms} ms (${rate} keys/s)\n`);
        this.restores.push({ actorId, ...r });
      })();
      await slot.opening;
    }
    const positions = actor.open();
    observer?.watch(() => actor.backpressured);
    for (const i of inputs) {
      if (i.spec.kind === 'custom') i.custom = i.spec.open(partition, actor.restoredSources[i.sourceId]);
    }
    slot.ready = true;
    if (!restoreFrom) this.post({ t: 'opened', id, actorId, positions });
    this.input.drain(slot);
    if (inputs.some((i) => i.reader || i.custom)) this.puller.schedule();
  }

  private kafkaConfig(): { brokers: string[]; clientId: string } {
    return { brokers: this.init.runtime.brokers, clientId: `sluice-${this.init.runtime.job}-w${this.init.workerId}` };
  }

  private async closeActor(id: number, actorId: string): Promise<void> {
    const s = this.slot(actorId);
    await s.opening;
    await s.actor.close();
    await s.changelog?.close();
    // After the final checkpoint took their snapshots: a next() still in flight is dropped, and re-read on restart.
    for (const i of s.inputs) await i.custom?.close();
    const positions = s.actor.positionMap();
    // Final counters, so totals survive the actor (the periodic stats may be up to a second old).
    const final = this.stats().filter((a) => a.actorId === actorId);
    this.post({ t: 'stats', actors: final });
    this.metrics?.closeActor(actorId, final[0]);
    s.store.releaseLease(s.leaseToken);
    s.store.close();
    this.slots.delete(actorId);
    this.post({ t: 'closed', id, actorId, positions });
  }

  /** The timer's tick: the actors' ticks, and batches that waited for a backpressure that has ended (one with no delivery to say so). */
  private tick(): void {
    void this.ticks.tickAll();
    for (const s of this.slots.values()) if (s.queued.length > 0) this.input.drain(s);
  }

  stats(): ActorStats[] {
    return [...this.slots.values()].map((s) => actorStats(s.actor, s.store.store.stats(), s.finishedReported));
  }

  private async shutdown(id: number): Promise<void> {
    this.lifecycle.transition('STOPPING');
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    const errors: unknown[] = [];
    await Promise.all(
      [...this.slots.keys()].map((actorId) => this.closeActor(-1, actorId).catch((e: unknown) => errors.push(e))),
    );
    for (const d of this.drivers.values()) await d.close().catch((e: unknown) => errors.push(e));
    await this.restoreProgress?.close();
    await this.env.close();
    if (errors.length) {
      this.lifecycle.transition('FAILED');
      throw new SluiceError(ErrorCodes.WORKER, `worker ${this.init.workerId}: ${errors.length} error(s) during shutdown`, { cause: errors[0] });
    }
    this.lifecycle.transition('STOPPED');
    this.post({ t: 'shutdown-done', id });
  }
}

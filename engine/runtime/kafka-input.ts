/**
 * Kafka input of a job, on the main thread: the consumer group, the mapping
 * from (topic, partition) to partition actors, backpressure, and the group
 * offset commits that report progress (kafka-progress.ts).
 *
 * Positions live in the actors' checkpoints. On assignment the actor opens
 * (waiting for the previous owner's lease on a shared state dir) and its
 * positions become the consumer's seek offsets, so no record is delivered
 * twice to the pipeline and none is skipped. On revoke the actor drains and
 * checkpoints before the partition is released. Group offsets are committed
 * only after an epoch's output is delivered: they show progress and lag, and
 * are never read back as positions when a checkpoint exists. A checkpointed
 * position the topic no longer holds: kafka-offset-range.ts.
 *
 * Backpressure (kafka-feeds.ts): an actor's partitions pause while the bytes
 * posted to its worker and not yet processed are over `maxInflightBytes`, or
 * while the actor says its sinks are behind.
 *
 * Bounded runs (`--until end`): kafka-run-bounds.ts. The runner stops once
 * every partition's inputs have ended.
 */
import { hostname } from 'node:os';
import type { SourceSpec } from '../contracts/sources.ts';
import { createAdmin } from '../kafka/admin.ts';
import { createGroupConsumer } from '../kafka/consumer.ts';
import type { AssignedOffsets, GroupConsumer, KafkaBatch, KafkaClientConfig, TopicPartition } from '../kafka/types.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { JobRunner } from './job-runner.ts';
import type { FromWorker } from './protocol.ts';
import { encodeRecords, wireBytes } from './record-batch.ts';
import { checkOffsetRange, type OffsetRanges, type OffsetReset } from './kafka-offset-range.ts';
import { KafkaProgress } from './kafka-progress.ts';
import { KafkaFeeds } from './kafka-feeds.ts';
import { INPUT_ALIGNMENT_MS, InputAlignment } from './kafka-alignment.ts';
import { checkCopartitioned } from './kafka-copartition.ts';
import { RunBounds } from './kafka-run-bounds.ts';

/** Default bound on bytes in flight to a worker, per actor (JobRunnerOptions.maxInflightBytes). */
export const MAX_INFLIGHT_BYTES = 16 << 20;
const COMMIT_EVERY_MS = 1000;
const ENDS_EVERY_MS = 2000;

export type { OffsetReset } from './kafka-offset-range.ts';

export interface InputStats {
  rebalances: number;
  /** Times an input was held for being ahead of another input of its partition in record time (kafka-alignment.ts). */
  alignmentHolds: number;
  /**
   * `inflight`: records posted to the worker and not processed yet, `inflightBytes` their
   * wire size, `peakInflightBytes` the most that ever was, `maxBatchBytes` the largest batch;
   * `pausedMs`: total backpressure pause, the current one included.
   */
  partitions: Array<{ partition: number; owned: boolean; inflight: number; inflightBytes: number; peakInflightBytes: number; maxBatchBytes: number; pausedMs: number }>;
}

export class KafkaInput {
  private readonly cfg: KafkaClientConfig;
  private readonly topics: string[];
  private readonly inputOfTopic = new Map<string, number>();
  private readonly sourceIds: string[];
  private consumer: GroupConsumer | undefined;
  private readonly feeds: KafkaFeeds;
  private readonly alignment: InputAlignment;
  private commitTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  rebalances = 0;
  /** The cluster id, known after checkPartitions() (state identity, state-identity.ts). */
  kafkaCluster: string | undefined;
  /** Group commits and lag (reporting only), per 'topic:partition'. */
  private readonly progress = new KafkaProgress();
  private admin: ReturnType<typeof createAdmin> | undefined;
  private endsTimer: NodeJS.Timeout | undefined;
  private polling = false;
  /** Bounded run: the end offsets, and the inputs read to them (kafka-run-bounds.ts). */
  private bounds: RunBounds | undefined;

  constructor(
    private readonly runner: JobRunner,
    private readonly sources: Record<string, SourceSpec>,
    readonly groupId: string,
    private readonly sessionTimeoutMs?: number,
    private readonly bounded = false,
    private readonly offsetReset: OffsetReset = 'fail',
    private readonly maxInflightBytes = MAX_INFLIGHT_BYTES,
    inputAlignmentMs = INPUT_ALIGNMENT_MS,
  ) {
    // The client id names the process, so `sluice status` can say who owns what.
    this.cfg = { brokers: runner.runtime.brokers, clientId: `sluice-${runner.runtime.job}-${hostname()}-${process.pid}` };
    this.sourceIds = Object.keys(sources);
    this.feeds = new KafkaFeeds(
      maxInflightBytes,
      (p) => this.consumer?.pause(this.tpsOf(p)),
      // An input of a bounded run that reached its bound stays paused.
      (p) => this.consumer?.resume(this.tpsOf(p).filter((tp) => !this.bounds?.isEnded(`${tp.topic}:${tp.partition}`))),
    );
    this.alignment = new InputAlignment(
      inputAlignmentMs,
      (p, i) => this.consumer?.hold([{ topic: this.topics[i], partition: p }]),
      (p, i) => this.consumer?.release([{ topic: this.topics[i], partition: p }]),
    );
    this.topics = this.sourceIds.map((id, i) => {
      const s = sources[id];
      if (s.kind !== 'kafka') throw new SluiceError(ErrorCodes.CONFIG, `source ${id} is not a Kafka source`);
      if (this.inputOfTopic.has(s.topic)) throw new SluiceError(ErrorCodes.CONFIG, `two sources read topic ${s.topic}`);
      this.inputOfTopic.set(s.topic, i);
      return s.topic;
    });
  }

  /** This process's client id as the consumer group lists it (the consumer's client adds its role, kafka/client.ts). */
  get clientId(): string {
    return `${this.cfg.clientId}-consumer`;
  }

  /** Co-partitioning check (kafka-copartition.ts); returns the partition count. */
  async checkPartitions(): Promise<number> {
    const r = await checkCopartitioned(this.cfg, this.topics, (t) => this.isInternal(t));
    this.kafkaCluster = r.cluster;
    return r.partitions;
  }

  private isInternal(topic: string): boolean {
    const s = this.sources[this.sourceIds[this.inputOfTopic.get(topic)!]];
    return s.kind === 'kafka' && s.internal === true;
  }

  async start(): Promise<void> {
    if (this.bounded) this.bounds = await RunBounds.take(this.cfg, this.topics);
    this.consumer = createGroupConsumer(this.cfg, {
      groupId: this.groupId,
      topics: this.topics,
      sessionTimeoutMs: this.sessionTimeoutMs,
      handlers: {
        onAssigned: (tps) => this.onAssigned(tps),
        onRevoked: (tps) => this.onRevoked(tps),
        onBatch: (b) => this.onBatch(b),
        onMarkers: (tp, next) => this.onMarkers(`${tp.topic}:${tp.partition}`, next),
        // What the consumer reports cannot be recovered from here (a partition that
        // did not open stays paused, a crash without restart reads nothing more):
        // the job fails rather than run on, silently reading less.
        onError: (err) => this.runner.fail(err.message.startsWith('kafka ') ? err : new SluiceError((err as SluiceError).code ?? ErrorCodes.KAFKA, `kafka consumer (group ${this.groupId}): ${err.message}`, { cause: err })),
        onEvent: (e) => {
          if (e.type === 'rebalancing') this.rebalances++;
        },
      },
    });
    await this.consumer.start();
    this.commitTimer = setInterval(() => void this.commit(), COMMIT_EVERY_MS);
    this.admin = createAdmin(this.cfg);
    this.endsTimer = setInterval(() => void this.pollEnds(), ENDS_EVERY_MS);
    this.resumeTimer = setInterval(() => {
      this.feeds.resumeAll();
      this.alignment.tick(Date.now(), (p) => this.feeds.isPaused(p));
    }, 100);
  }

  private partitionsOf(tps: TopicPartition[]): number[] {
    return [...new Set(tps.map((tp) => tp.partition))].sort((a, b) => a - b);
  }

  private async onAssigned(tps: TopicPartition[]): Promise<AssignedOffsets> {
    const out: AssignedOffsets = new Map();
    // Offset ranges, asked once per assignment and only when a partition has a position.
    let admin: ReturnType<typeof createAdmin> | undefined;
    const asked = new Map<string, Promise<Map<number, { low: number; high: number }>>>();
    const ranges: OffsetRanges = (topic) => {
      let r = asked.get(topic);
      if (!r) asked.set(topic, (r = (admin ??= createAdmin(this.cfg)).topicOffsetRange(topic)));
      return r;
    };
    try {
      return await this.assign(tps, out, ranges);
    } finally {
      await admin?.close().catch(() => {});
    }
  }

  private async assign(
    tps: TopicPartition[],
    out: AssignedOffsets,
    ranges: OffsetRanges,
  ): Promise<AssignedOffsets> {
    await Promise.all(
      this.partitionsOf(tps).map(async (p) => {
        let positions: Record<string, number>;
        try {
          positions = await this.runner.openActor(p);
        } catch (err) {
          const e = err as SluiceError;
          const failed = new SluiceError(e.code ?? ErrorCodes.KAFKA, `kafka input on partition ${p} (${this.topics.join(', ')}): opening the partition failed: ${e.message}`, { cause: err });
          this.runner.fail(failed);
          throw failed;
        }
        const starts = await checkOffsetRange({
          p,
          positions,
          ranges,
          sourceIds: this.sourceIds,
          topics: this.topics,
          offsetReset: this.offsetReset,
          job: this.runner.runtime.job,
          fail: (e) => this.runner.fail(e),
        });
        this.feeds.open(p);
        // Internal (repartition) topics carry event time, raw topics their producers' time: only the raw ones are aligned.
        this.alignment.open(p, this.topics.map((t) => !this.isInternal(t)));
        this.sourceIds.forEach((id, i) => {
          const pos = positions[id] ?? 0;
          out.set(`${this.topics[i]}:${p}`, starts[i] ?? (pos > 0 ? pos : -1));
          this.progress.assigned(`${this.topics[i]}:${p}`, pos);
        });
        if (this.bounds) {
          // A new actor: tell it again about inputs already at their bound (or with nothing to read).
          this.sourceIds.forEach((id, i) => {
            const key = `${this.topics[i]}:${p}`;
            this.bounds!.reopen(key);
            const pos = positions[id] ?? 0;
            const latest = (this.sources[id] as { startFrom?: string }).startFrom === 'latest' && pos === 0;
            if (latest || pos >= this.bounds!.of(key)) this.endInput(p, i, key);
          });
        }
      }),
    );
    return out;
  }

  /** Bounded run: input `input` of partition `p` is read to its bound. */
  private endInput(p: number, input: number, key: string): void {
    if (!this.bounds!.end(key)) return;
    this.consumer?.pause([{ topic: this.topics[input], partition: p }]);
    this.alignment.ended(p, input, Date.now());
    this.runner.workerFor(p).endInput(`p${p}`, input);
  }

  private async onRevoked(tps: TopicPartition[]): Promise<void> {
    await Promise.all(
      this.partitionsOf(tps).map(async (p) => {
        this.feeds.close(p);
        this.alignment.close(p);
        try {
          await this.runner.closeActor(p);
        } catch (err) {
          // The actor could not take its last checkpoint: the job fails (the next
          // start, or the partition's next owner, resumes from the last one).
          const e = err as SluiceError;
          this.runner.fail(new SluiceError(e.code ?? ErrorCodes.KAFKA, `kafka input on partition ${p}: closing the partition on revoke failed: ${e.message}`, { cause: err }));
        }
      }),
    );
    await this.commit();
  }

  private onBatch(b: KafkaBatch): void {
    const input = this.inputOfTopic.get(b.topic);
    if (!this.feeds.has(b.partition) || input === undefined || b.length === 0) return;
    let n = b.length;
    const key = `${b.topic}:${b.partition}`;
    if (this.bounds) {
      if (this.bounds.isEnded(key)) return;
      const bound = this.bounds.of(key);
      n = this.bounds.clip(b, key);
      if (n > 0) this.send(b.partition, Math.min(b.nextOffset, bound), input, key, b, n);
      if (b.nextOffset >= bound) this.endInput(b.partition, input, key);
      return;
    }
    this.send(b.partition, b.nextOffset, input, key, b, n);
  }

  /** The batch's first `n` records to the partition's actor. */
  private send(partition: number, nextOffset: number, input: number, key: string, b: KafkaBatch, n: number): void {
    this.progress.handedOver(key, b.offset(n - 1) + 1, nextOffset);
    const wire = encodeRecords(b, 0, n);
    // Before the send: it transfers the buffers, which leaves them empty here.
    const bytes = wireBytes(wire);
    this.runner.workerFor(partition).sendBatch(`p${partition}`, input, wire);
    this.feeds.sent(partition, n, bytes);
    this.alignment.posted(partition, input, b.timestamp(n - 1), nextOffset >= b.readEnd, Date.now());
  }

  onWorkerMessage(msg: FromWorker): void {
    if (msg.t === 'processed') {
      this.feeds.processed(Number(msg.actorId.slice(1)), msg.records, msg.bytes, msg.backpressured);
    } else if (msg.t === 'stats') {
      // An actor that has processed all it was sent sends no 'processed', yet must not be fed while its sinks are behind.
      for (const a of msg.actors) this.feeds.pressure(a.partition, a.backpressured);
    } else if (msg.t === 'delivered') {
      const p = Number(msg.actorId.slice(1));
      // Its sinks caught up: the input resumes now, not at the next stats message.
      this.feeds.pressure(p, msg.backpressured);
      this.sourceIds.forEach((id, i) => {
        this.progress.delivered(`${this.topics[i]}:${p}`, this.topics[i], p, msg.positions[id]);
      });
    }
  }

  private onMarkers(key: string, next: number): void {
    if (this.bounds && !this.bounds.isEnded(key) && next >= this.bounds.of(key)) {
      const [topic, p] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      if (this.feeds.has(p)) this.endInput(p, this.inputOfTopic.get(topic)!, key);
    }
    this.progress.markers(key, next);
  }

  private tpsOf(p: number): TopicPartition[] {
    return this.topics.map((topic) => ({ topic, partition: p }));
  }

  private async commit(): Promise<void> {
    if (!this.consumer) return;
    const list = this.progress.take();
    if (list.length === 0) return;
    try {
      await this.consumer.commitOffsets(list);
    } catch (err) {
      // Progress reporting only: the next round commits newer offsets.
      process.stderr.write(`sluice: group offset commit failed (lag reporting only): ${(err as Error).message}\n`);
    }
  }

  /** Consumer lag per owned partition (KafkaProgress.lag). */
  lag(): Map<string, number> {
    return this.progress.lag(this.consumer?.lag() ?? new Map<string, number>(), (p) => this.feeds.has(p));
  }

  private async pollEnds(): Promise<void> {
    if (!this.admin || this.polling) return;
    this.polling = true;
    try {
      for (const t of this.topics) for (const [p, end] of await this.admin.topicEndOffsets(t)) this.progress.noteEnd(`${t}:${p}`, end);
    } catch {
      // Lag reporting only; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /** Figures for metrics (metrics/runner-metrics.ts), for every partition this process owns or owned. */
  inputStats(now = Date.now()): InputStats {
    return { rebalances: this.rebalances, alignmentHolds: this.alignment.holds, partitions: this.feeds.stats(now) };
  }

  private async closeAdmin(): Promise<void> {
    clearInterval(this.endsTimer);
    const a = this.admin;
    this.admin = undefined;
    await a?.close().catch(() => {});
  }

  async stop(): Promise<void> {
    await this.closeAdmin();
    clearInterval(this.commitTimer);
    clearInterval(this.resumeTimer);
    // stop() revokes every partition first (onRevoked closes the actors), then leaves the group.
    await this.consumer?.stop();
    this.consumer = undefined;
  }

  async destroy(): Promise<void> {
    await this.closeAdmin();
    clearInterval(this.commitTimer);
    clearInterval(this.resumeTimer);
    const c = this.consumer;
    this.consumer = undefined;
    await c?.stop().catch(() => {});
  }
}

/**
 * Kafka input of a job, on the main thread: the consumer group, the mapping
 * from (topic, partition) to partition actors, backpressure, and the group
 * offset commits that report progress.
 *
 * Positions live in the actors' checkpoints. On assignment the actor opens
 * (waiting for the previous owner's lease on a shared state dir) and its
 * positions become the consumer's seek offsets, so no record is delivered
 * twice to the pipeline and none is skipped. On revoke the actor drains and
 * checkpoints before the partition is released. Group offsets are committed
 * only after an epoch's output is delivered: they show progress and lag, and
 * are never read back as positions when a checkpoint exists.
 *
 * Backpressure: records posted to a worker but not yet processed are counted
 * per actor. Above HIGH_WATER the actor's partitions are paused; they resume
 * below LOW_WATER, and only once the actor's sinks have caught up.
 *
 * Bounded runs (`--until end`): the end offsets of every input topic are
 * taken before the consumer starts. A topic partition whose position reaches
 * its bound (records handed over, or transaction markers fetched past it) is
 * paused for good, records at or past the bound are not handed over, and the
 * worker is told (`end-input`, after the last batch), so the actor's event
 * time for that input goes to the end. The runner stops once every
 * partition's inputs have ended.
 */
import { hostname } from 'node:os';
import type { SourceSpec } from '../contracts/sources.ts';
import { createAdmin } from '../kafka/admin.ts';
import { createGroupConsumer } from '../kafka/consumer.ts';
import type { AssignedOffsets, GroupConsumer, KafkaBatch, KafkaClientConfig, TopicPartition, TopicPartitionOffset } from '../kafka/types.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { JobRunner } from './job-runner.ts';
import type { FromWorker } from './protocol.ts';
import { encodeRecordBatch, type RawRecord } from './record-batch.ts';

const HIGH_WATER = 50_000;
const LOW_WATER = 10_000;
const COMMIT_EVERY_MS = 1000;
const ENDS_EVERY_MS = 2000;

/** What a checkpointed position the topic no longer holds does (KafkaInput.checkRange). */
export type OffsetReset = 'fail' | 'earliest' | 'latest';

export interface InputStats {
  rebalances: number;
  /** `inflight`: records posted to the worker and not processed yet; `pausedMs`: total backpressure pause, the current one included. */
  partitions: Array<{ partition: number; owned: boolean; inflight: number; pausedMs: number }>;
}

interface ActorFeed {
  inflight: number;
  paused: boolean;
  backpressured: boolean;
}

export class KafkaInput {
  private readonly cfg: KafkaClientConfig;
  private readonly topics: string[];
  private readonly inputOfTopic = new Map<string, number>();
  private readonly sourceIds: string[];
  private consumer: GroupConsumer | undefined;
  private readonly feeds = new Map<number, ActorFeed>();
  private readonly toCommit = new Map<string, TopicPartitionOffset>();
  private commitTimer: NodeJS.Timeout | undefined;
  private resumeTimer: NodeJS.Timeout | undefined;
  rebalances = 0;
  /** The cluster id, known after checkPartitions() (state identity, state-identity.ts). */
  kafkaCluster: string | undefined;
  /** Next offset whose output is delivered (what the group commit reports), per 'topic:partition'. */
  private readonly deliveredAt = new Map<string, number>();
  /**
   * Per "topic:partition": the offset after the last record handed to the
   * actor, and the offset after the last fetch (past transaction markers).
   * When everything handed over is delivered, progress is reported up to the
   * fetch position: a topic written in transactions (every sluice Kafka sink)
   * ends in a commit marker no record carries, and lag would otherwise stay
   * at 1 per partition. Reporting only: the actor's LMDB position is the truth.
   */
  private readonly sentEnd = new Map<string, number>();
  private readonly fetchedEnd = new Map<string, number>();
  /** End offsets polled every ENDS_EVERY_MS, per 'topic:partition'. */
  private readonly ends = new Map<string, number>();
  private admin: ReturnType<typeof createAdmin> | undefined;
  private endsTimer: NodeJS.Timeout | undefined;
  private polling = false;
  pausedMs = 0;
  private readonly pausedSince = new Map<number, number>();
  /** Finished pauses per partition, ms (for metrics; kept after a revoke, as totals). */
  private readonly pausedMsOf = new Map<number, number>();
  /** Bounded run: the end offset of each 'topic:partition' when the run started. */
  private bounds: Map<string, number> | undefined;
  /** Bounded run: the 'topic:partition's read to their bound (paused for good). */
  private readonly ended = new Set<string>();

  constructor(
    private readonly runner: JobRunner,
    private readonly sources: Record<string, SourceSpec>,
    readonly groupId: string,
    private readonly sessionTimeoutMs?: number,
    private readonly bounded = false,
    private readonly offsetReset: OffsetReset = 'fail',
  ) {
    // The client id names the process, so `sluice status` can say who owns what.
    this.cfg = { brokers: runner.runtime.brokers, clientId: `sluice-${runner.runtime.job}-${hostname()}-${process.pid}` };
    this.sourceIds = Object.keys(sources);
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

  /** Co-partitioning check: every source topic exists and has the same number of partitions. */
  async checkPartitions(): Promise<number> {
    const admin = createAdmin(this.cfg);
    try {
      const counts: Array<[string, number | undefined]> = await Promise.all(this.topics.map(async (t) => [t, await admin.partitionCount(t)] as [string, number | undefined]));
      // Internal topics (repartition topics the job writes itself) are created like the others, as Kafka Streams does.
      const like = counts.find(([t, n]) => n !== undefined && !this.isInternal(t))?.[1];
      for (const c of counts) {
        if (c[1] === undefined && like !== undefined && this.isInternal(c[0])) {
          await admin.ensureTopic(c[0], like);
          c[1] = like;
        }
      }
      const missing = counts.filter(([, n]) => n === undefined).map(([t]) => t);
      if (missing.length) throw new SluiceError(ErrorCodes.CONFIG, `source topic(s) do not exist: ${missing.join(', ')}`);
      const first = counts[0][1]!;
      if (counts.some(([, n]) => n !== first)) {
        throw new SluiceError(
          ErrorCodes.PARTITION_MISMATCH,
          `source topics are not co-partitioned: ${counts.map(([t, n]) => `${t}=${n}`).join(', ')}. ` +
            'Records of one key must land in the same partition number of every topic; give the topics the same partition count.',
        );
      }
      this.kafkaCluster = await admin.clusterId();
      return first;
    } finally {
      await admin.close();
    }
  }

  private isInternal(topic: string): boolean {
    const s = this.sources[this.sourceIds[this.inputOfTopic.get(topic)!]];
    return s.kind === 'kafka' && s.internal === true;
  }

  async start(): Promise<void> {
    if (this.bounded) {
      const admin = createAdmin(this.cfg);
      try {
        this.bounds = new Map();
        for (const t of this.topics) for (const [p, end] of await admin.topicEndOffsets(t)) this.bounds.set(`${t}:${p}`, end);
      } finally {
        await admin.close();
      }
    }
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
    this.resumeTimer = setInterval(() => this.maybeResumeAll(), 100);
  }

  private partitionsOf(tps: TopicPartition[]): number[] {
    return [...new Set(tps.map((tp) => tp.partition))].sort((a, b) => a - b);
  }

  /**
   * "Offset out of range": a checkpointed position the topic no longer holds
   * (retention deleted the records past it, or the topic was recreated and
   * holds fewer). By default the job fails, naming the partition, the
   * position, the range and the ways out; kafkajs alone would reset to the
   * earliest offset, which the engine then refused, in a loop. With
   * --offset-reset earliest|latest a position behind the log start skips
   * forward to it, with a warning; a position past the end (a recreated topic)
   * always fails: its state was computed from other records.
   * Returns the seek offset per input where it differs from the position.
   */
  private async checkRange(p: number, positions: Record<string, number>, ranges: (topic: string) => Promise<Map<number, { low: number; high: number }>>): Promise<Array<number | undefined>> {
    const starts: Array<number | undefined> = [];
    for (let i = 0; i < this.sourceIds.length; i++) {
      const pos = positions[this.sourceIds[i]] ?? 0;
      if (pos <= 0) continue;
      const topic = this.topics[i];
      const r = (await ranges(topic)).get(p);
      if (!r || (pos >= r.low && pos <= r.high)) continue;
      const where = `kafka input on partition ${p} (${topic}:${p})`;
      if (pos < r.low && this.offsetReset !== 'fail') {
        starts[i] = this.offsetReset === 'earliest' ? r.low : r.high;
        process.stderr.write(`sluice: warning: ${where}: checkpointed offset ${pos} is no longer in the topic (it holds ${r.low}-${r.high}); --offset-reset ${this.offsetReset}: reading from ${starts[i]}, records ${pos}-${r.low - 1} are lost\n`);
        continue;
      }
      const why = pos < r.low ? 'retention deleted the records after it' : 'the topic holds fewer records: it was recreated, or this state was written for another topic';
      const way = pos < r.low ? 'skip to what is there with --offset-reset earliest (or latest), or start over' : 'start over';
      const e = new SluiceError(ErrorCodes.KAFKA, `${where}: checkpointed offset ${pos} is out of range (the topic holds ${r.low}-${r.high}; ${why}): ${way} with \`sluice reset ${this.runner.runtime.job}\``);
      this.runner.fail(e);
      throw e;
    }
    return starts;
  }

  private async onAssigned(tps: TopicPartition[]): Promise<AssignedOffsets> {
    const out: AssignedOffsets = new Map();
    // Offset ranges, asked once per assignment and only when a partition has a position.
    let admin: ReturnType<typeof createAdmin> | undefined;
    const asked = new Map<string, Promise<Map<number, { low: number; high: number }>>>();
    const ranges = (topic: string): Promise<Map<number, { low: number; high: number }>> => {
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
    ranges: (topic: string) => Promise<Map<number, { low: number; high: number }>>,
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
        const starts = await this.checkRange(p, positions, ranges);
        this.feeds.set(p, { inflight: 0, paused: false, backpressured: false });
        this.sourceIds.forEach((id, i) => {
          const pos = positions[id] ?? 0;
          out.set(`${this.topics[i]}:${p}`, starts[i] ?? (pos > 0 ? pos : -1));
          this.deliveredAt.set(`${this.topics[i]}:${p}`, pos);
          this.sentEnd.set(`${this.topics[i]}:${p}`, pos);
          this.fetchedEnd.delete(`${this.topics[i]}:${p}`);
        });
        if (this.bounds) {
          // A new actor: tell it again about inputs already at their bound (or with nothing to read).
          this.sourceIds.forEach((id, i) => {
            const key = `${this.topics[i]}:${p}`;
            this.ended.delete(key);
            const pos = positions[id] ?? 0;
            const latest = (this.sources[id] as { startFrom?: string }).startFrom === 'latest' && pos === 0;
            if (latest || pos >= (this.bounds!.get(key) ?? 0)) this.endInput(p, i, key);
          });
        }
      }),
    );
    return out;
  }

  /** Bounded run: input `input` of partition `p` is read to its bound. */
  private endInput(p: number, input: number, key: string): void {
    if (this.ended.has(key)) return;
    this.ended.add(key);
    this.consumer?.pause([{ topic: this.topics[input], partition: p }]);
    this.runner.workerFor(p).endInput(`p${p}`, input);
  }

  private async onRevoked(tps: TopicPartition[]): Promise<void> {
    await Promise.all(
      this.partitionsOf(tps).map(async (p) => {
        this.feeds.delete(p);
        this.endPause(p);
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
    const feed = this.feeds.get(b.partition);
    const input = this.inputOfTopic.get(b.topic);
    if (!feed || input === undefined || b.records.length === 0) return;
    let recs: RawRecord[] = b.records as unknown as RawRecord[];
    const key = `${b.topic}:${b.partition}`;
    if (this.bounds) {
      if (this.ended.has(key)) return;
      // Records at or past the bound arrived after the run started: not this run's.
      const bound = this.bounds.get(key) ?? 0;
      if (recs[recs.length - 1].offset >= bound) recs = recs.filter((r) => r.offset < bound);
      if (recs.length > 0) this.send(b.partition, Math.min(b.nextOffset, bound), feed, input, key, recs);
      if (b.nextOffset >= bound) this.endInput(b.partition, input, key);
      return;
    }
    this.send(b.partition, b.nextOffset, feed, input, key, recs);
  }

  private send(partition: number, nextOffset: number, feed: ActorFeed, input: number, key: string, recs: RawRecord[]): void {
    this.sentEnd.set(key, recs[recs.length - 1].offset + 1);
    if (nextOffset > (this.fetchedEnd.get(key) ?? 0)) this.fetchedEnd.set(key, nextOffset);
    const wire = encodeRecordBatch(recs);
    this.runner.workerFor(partition).sendBatch(`p${partition}`, input, wire);
    feed.inflight += recs.length;
    if (feed.inflight > HIGH_WATER) this.pause(partition, feed);
  }

  onWorkerMessage(msg: FromWorker): void {
    if (msg.t === 'processed') {
      const p = Number(msg.actorId.slice(1));
      const feed = this.feeds.get(p);
      if (!feed) return;
      feed.inflight -= msg.records;
      feed.backpressured = msg.backpressured;
      if (feed.backpressured) this.pause(p, feed);
      else this.maybeResume(p, feed);
    } else if (msg.t === 'delivered') {
      const p = Number(msg.actorId.slice(1));
      this.sourceIds.forEach((id, i) => {
        const offset = msg.positions[id];
        const key = `${this.topics[i]}:${p}`;
        if (offset > 0 && offset >= (this.deliveredAt.get(key) ?? 0)) {
          this.toCommit.set(key, { topic: this.topics[i], partition: p, offset });
          this.deliveredAt.set(key, offset);
        }
        this.passMarkers(key, this.topics[i], p);
      });
    }
  }

  private onMarkers(key: string, next: number): void {
    if (this.bounds && !this.ended.has(key) && next >= (this.bounds.get(key) ?? 0)) {
      const [topic, p] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
      if (this.feeds.has(p)) this.endInput(p, this.inputOfTopic.get(topic)!, key);
    }
    if (next <= (this.fetchedEnd.get(key) ?? 0)) return;
    this.fetchedEnd.set(key, next);
    const [topic, p] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
    this.passMarkers(key, topic, p);
  }

  /** Everything handed to the actor is delivered: report progress up to the fetch position. */
  private passMarkers(key: string, topic: string, partition: number): void {
    const at = this.deliveredAt.get(key);
    const fetched = this.fetchedEnd.get(key);
    if (at === undefined || fetched === undefined || at !== this.sentEnd.get(key) || fetched <= at) return;
    this.deliveredAt.set(key, fetched);
    this.toCommit.set(key, { topic, partition, offset: fetched });
  }

  private tpsOf(p: number): TopicPartition[] {
    return this.topics.map((topic) => ({ topic, partition: p }));
  }

  private pause(p: number, feed: ActorFeed): void {
    if (feed.paused) return;
    feed.paused = true;
    this.pausedSince.set(p, Date.now());
    this.consumer?.pause(this.tpsOf(p));
  }

  private maybeResume(p: number, feed: ActorFeed): void {
    if (!feed.paused || feed.inflight > LOW_WATER || feed.backpressured) return;
    feed.paused = false;
    this.endPause(p);
    // An input of a bounded run that reached its bound stays paused.
    this.consumer?.resume(this.tpsOf(p).filter((tp) => !this.ended.has(`${tp.topic}:${tp.partition}`)));
  }

  private endPause(p: number): void {
    const since = this.pausedSince.get(p);
    if (since === undefined) return;
    const ms = Date.now() - since;
    this.pausedMs += ms;
    this.pausedMsOf.set(p, (this.pausedMsOf.get(p) ?? 0) + ms);
    this.pausedSince.delete(p);
  }

  /**
   * Sinks falling behind or catching up are seen in the workers' stats, not
   * only in 'processed' messages: an actor that has processed all it was sent
   * sends none, yet must not be fed again while its sinks are stalled.
   */
  private maybeResumeAll(): void {
    for (const [p, feed] of this.feeds) {
      const s = this.runner.stats.get(`p${p}`);
      if (!feed.paused) {
        if (s?.backpressured) {
          feed.backpressured = true;
          this.pause(p, feed);
        }
        continue;
      }
      if (s && feed.backpressured && !s.backpressured) feed.backpressured = false;
      this.maybeResume(p, feed);
    }
  }

  private async commit(): Promise<void> {
    if (!this.consumer || this.toCommit.size === 0) return;
    const list = [...this.toCommit.values()];
    this.toCommit.clear();
    try {
      await this.consumer.commitOffsets(list);
    } catch (err) {
      // Progress reporting only: the next round commits newer offsets.
      process.stderr.write(`sluice: group offset commit failed (lag reporting only): ${(err as Error).message}\n`);
    }
  }

  /**
   * Consumer lag per owned partition: records in Kafka whose output is not
   * delivered yet (end offset minus the delivered position, which is what the
   * group commit reports, as Kafka's own tools compute it). The consumer only
   * learns a high watermark from its fetches, so while a partition is paused
   * (backpressure) its figure would go stale; the end offsets polled by the
   * admin client keep lag true then, which is when it matters most.
   */
  lag(): Map<string, number> {
    const out = this.consumer?.lag() ?? new Map<string, number>();
    for (const [key, end] of this.ends) {
      const at = this.deliveredAt.get(key);
      const [, p] = key.split(':');
      if (at === undefined || !this.feeds.has(Number(p))) continue;
      out.set(key, Math.max(out.get(key) ?? 0, end - at));
    }
    return out;
  }

  private async pollEnds(): Promise<void> {
    if (!this.admin || this.polling) return;
    this.polling = true;
    try {
      for (const t of this.topics) for (const [p, end] of await this.admin.topicEndOffsets(t)) this.ends.set(`${t}:${p}`, end);
    } catch {
      // Lag reporting only; the next poll tries again.
    } finally {
      this.polling = false;
    }
  }

  /** Figures for metrics (metrics/runner-metrics.ts), for every partition this process owns or owned. */
  inputStats(now = Date.now()): InputStats {
    const ps = new Set([...this.feeds.keys(), ...this.pausedMsOf.keys()]);
    const partitions = [...ps].map((p) => {
      const since = this.pausedSince.get(p);
      const feed = this.feeds.get(p);
      return { partition: p, owned: feed !== undefined, inflight: feed?.inflight ?? 0, pausedMs: (this.pausedMsOf.get(p) ?? 0) + (since === undefined ? 0 : now - since) };
    });
    return { rebalances: this.rebalances, partitions };
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

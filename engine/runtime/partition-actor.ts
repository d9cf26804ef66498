/**
 * A partition actor: partition p of every source of a job, one pipeline
 * instance, its keyed state, and its checkpoints. Exactly one actor in the
 * whole deployment owns a partition at a time.
 *
 * Lifecycle (an illegal transition throws):
 *
 *   CREATED ──open()──▶ RESTORING ──▶ RUNNING ──close()──▶ CLOSING ──▶ CLOSED
 *      │                    │            │                    │
 *      └────────────────────┴────────────┴──── destroy(err) ──┴──▶ FAILED
 *
 * Checkpoint, in three phases (after Kafka Streams' prepareCommit / commit /
 * postCommit):
 *   1. prepare: operators' onCheckpoint, then take this epoch's outbox and the
 *      source positions (the NEXT offset to read of each input);
 *   2. commit: ONE durable LMDB transaction with the dirty state, timers,
 *      positions and outbox (and the ack of epochs already delivered);
 *   3. post: the sinks deliver the outbox idempotently; once every sink has
 *      it, the epoch counts as delivered (acked in the next transaction) and
 *      the positions are reported for the Kafka group commit (lag only).
 * On restart the actor resumes from the committed positions and redelivers
 * every outbox epoch not yet acked. A crash at any point thus loses nothing,
 * and idempotent sinks see no duplicate.
 */
import type { Key } from '../contracts/operator.ts';
import { randomUUID } from 'node:crypto';
import type { ChangeRecorder } from '../../state/partition-store.ts';
import { watermarkMarker, type SinkRecord } from '../contracts/sinks.ts';
import { CHANGELOG_SINK, type ChangelogMarker } from './changelog.ts';
import { FIRE } from '../operators/windows/window-types.ts';
import { buildLetter, DLQ_MAX_VALUE_BYTES, type LetterContext } from './dead-letter.ts';
import type { LimitBreach } from './input-limits.ts';
import { Lifecycle } from './lifecycle.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import { OutboxBuffer, undeliveredEpochs } from './outbox.ts';
import type { SinkStall } from './delivery-policy.ts';
import { DEAD_LETTER_SINK, Topology, type TopologyOutput } from './topology.ts';
import { WatermarkTracker } from './watermark-tracker.ts';

export type ActorState = 'CREATED' | 'RESTORING' | 'RUNNING' | 'CLOSING' | 'CLOSED' | 'FAILED';

const LEGAL: Record<ActorState, readonly ActorState[]> = {
  CREATED: ['RESTORING', 'FAILED'],
  RESTORING: ['RUNNING', 'FAILED'],
  RUNNING: ['CLOSING', 'FAILED'],
  CLOSING: ['CLOSED', 'FAILED'],
  CLOSED: [],
  FAILED: [],
};

export { tickPeriodMs } from './actor-options.ts';
export type { ActorCounters, ActorInput, ActorObserver, ActorOptions, FaultPoint } from './actor-options.ts';
import { RECENT_DEAD_LETTERS, tickPeriodMs, type ActorCounters, type ActorOptions, type DeadLetterRecord } from './actor-options.ts';

/** The largest event time (Date's limit): a forwarded +Infinity, which JSON cannot carry. */
const MAX_EVENT_TIME = 8.64e15;

/** Indices of the actor's inputs whose records can reach sink `sinkId`. */
function inputsUpstreamOf(o: ActorOptions, sinkId: string): number[] {
  return inputsUpstreamOfNodes(o, o.nodes.flatMap((n, i) => (n.kind === 'sink' && n.sinkId === sinkId ? [i] : [])));
}

/** Indices of the actor's inputs whose records can reach any of the nodes `todo`. */
function inputsUpstreamOfNodes(o: ActorOptions, todo: number[]): number[] {
  const seen = new Set<number>();
  const sources = new Set<string>();
  while (todo.length) {
    const i = todo.pop()!;
    if (seen.has(i)) continue;
    seen.add(i);
    const n = o.nodes[i];
    if (n.kind === 'source') sources.add(n.sourceId);
    for (const inp of n.inputs) todo.push(inp.from);
  }
  return o.inputs.flatMap((inp, i) => (sources.has(inp.sourceId) ? [i] : []));
}

export class PartitionActor implements TopologyOutput {
  readonly lifecycle = new Lifecycle<ActorState>('partition actor', 'CREATED', LEGAL);
  readonly counters: ActorCounters;
  private readonly positions: number[];
  private readonly tracker: WatermarkTracker;
  private readonly outbox: OutboxBuffer;
  private topology!: Topology;
  /** Set by open(); an actor still restoring (worker-host) has none yet: see the getters below. */
  private delivery!: DeliveryQueue;
  private epoch = 0;
  private lastCheckpoint = 0;
  private readonly tickSlack: number;
  /** Undelivered epochs that mean "sinks are behind": four, or a second's worth at short intervals. */
  private readonly maxBacklog: number;
  /** Processing time: ActorOptions.now, or Date.now. Operators' ctx.now() and processing-time timers read it. */
  readonly now: () => number;
  /** Positions at each committed-but-undelivered epoch, reported once delivered. */
  private readonly positionsAt = new Map<number, Record<string, number>>();
  private current: { source?: string; offset?: number } = {};
  /** Custom sources' snapshots from the last checkpoint, for the worker to reopen them. */
  restoredSources: Record<string, unknown> = {};
  /** Custom sources' snapshot taken by the last checkpoint. */
  private lastSources: Record<string, unknown> | undefined;
  /** Tokens of the changelog markers this local state wrote (newest last), see changelog.ts. */
  private markers: string[] = [];
  private readonly markerPrefix = randomUUID().slice(0, 8);
  /** Records ingested or skipped, timers fired, output produced since the last checkpoint. */
  private changed = false;
  /** Per pipeline node, the inputs upstream of it; set when event time is tracked per node. */
  private readonly nodeInputs: number[][] | undefined;
  /** Per watermark-forwarding sink: the inputs upstream of it, and the watermark last sent to it. */
  private readonly forwarded: Array<{ sinkId: string; inputs: number[]; sent: number }>;
  /** Dead letters by reason of each epoch not yet delivered: counted once it is. */
  private readonly lettersAt = new Map<number, Map<string, number>>();
  private readonly letterCtx: LetterContext;

  constructor(private readonly o: ActorOptions) {
    this.now = o.now ?? Date.now;
    this.tickSlack = Math.floor(tickPeriodMs(o.checkpointIntervalMs) / 2);
    this.maxBacklog = Math.max(4, Math.ceil(1000 / Math.max(1, o.checkpointIntervalMs)));
    this.positions = o.inputs.map(() => 0);
    this.tracker = new WatermarkTracker(o.inputs.map((i) => i.watermark));
    // With an upstream-watermarked input, event time is tracked per operator (Topology.advanceNodeWatermarks).
    this.nodeInputs = o.inputs.some((i) => i.watermark.upstream) ? o.nodes.map((_, i) => inputsUpstreamOfNodes(o, [i])) : undefined;
    this.forwarded = [...(o.watermarkSinks ?? [])].map((sinkId) => ({ sinkId, inputs: inputsUpstreamOf(o, sinkId), sent: -Infinity }));
    this.outbox = new OutboxBuffer(o.partition);
    this.letterCtx = { job: o.job, group: o.group ?? o.job, maxValueBytes: o.dlqMaxValueBytes ?? DLQ_MAX_VALUE_BYTES };
    this.counters = {
      recordsIn: o.inputs.map(() => 0),
      skippedReplay: 0,
      recordsOut: new Map(),
      deadLetters: new Map(),
      operatorCounts: new Map(),
      checkpoints: 0,
      lastCheckpointAt: 0,
      lastCheckpointMs: 0,
      lastCheckpointBytes: 0,
      recentDeadLetters: [],
    };
  }

  get id(): string {
    return this.o.actorId;
  }

  get partition(): number {
    return this.o.partition;
  }

  /** Unique to this opening of the actor. */
  get instance(): string {
    return this.markerPrefix;
  }

  get state(): ActorState {
    return this.lifecycle.state;
  }

  /** Restores positions and timers, queues redelivery of undelivered output, and starts the operators. */
  open(): Record<string, number> {
    this.lifecycle.transition('RESTORING');
    const meta = this.o.store.readMeta();
    this.epoch = meta?.epoch ?? 0;
    const extra = meta?.extra as
      | { acked?: number; sources?: Record<string, unknown>; markers?: string[]; wm?: { maxSeen: Record<string, number>; watermark: number } }
      | undefined;
    const acked = extra?.acked ?? 0;
    this.restoredSources = extra?.sources ?? {};
    this.markers = extra?.markers ?? [];
    this.o.inputs.forEach((inp, i) => (this.positions[i] = meta?.positions[inp.sourceId] ?? 0));
    // The watermark resumes where the checkpoint left it (see WatermarkTracker.restore).
    if (extra?.wm) this.tracker.restore({ maxSeen: this.o.inputs.map((inp) => extra.wm!.maxSeen[inp.sourceId]), watermark: extra.wm.watermark }, this.now());
    this.delivery = new DeliveryQueue(this.o.actorId, this.o.partition, this.o.sinks, acked, (epoch) => this.delivered(epoch), this.o.delivery, this.o.transaction);
    this.delivery.observer = this.o.observer;
    this.delivery.onFailed = this.o.onFailed;
    for (const [epoch, entries] of undeliveredEpochs(this.o.store.readOutbox(), acked)) {
      this.noteLetters(epoch, entries);
      this.delivery.push(epoch, entries);
    }
    this.topology = new Topology(this.o.job, this.o.partition, this.o.nodes, this.o.store, this);
    this.topology.start();
    this.lastCheckpoint = this.now();
    this.lifecycle.transition('RUNNING');
    return this.positionMap();
  }

  /** The next offset to read of each input, by source id. */
  positionMap(): Record<string, number> {
    const out: Record<string, number> = {};
    this.o.inputs.forEach((inp, i) => (out[inp.sourceId] = this.positions[i]));
    return out;
  }

  position(input: number): number {
    return this.positions[input];
  }

  /**
   * Feeds decoded records of input `input`. Records below the input's
   * position were already processed before a restart, so they are skipped:
   * this is what makes a replayed fetch harmless.
   */
  ingest(input: number, values: unknown[], times: number[], offsets: ArrayLike<number>): void {
    const pos = this.positions[input];
    let start = 0;
    while (start < offsets.length && offsets[start] < pos) start++;
    if (start > 0) {
      this.counters.skippedReplay += start;
      if (start === offsets.length) return;
      values = values.slice(start);
      times = times.slice(start);
    }
    let maxT = -Infinity;
    for (let i = 0; i < times.length; i++) if (times[i] > maxT) maxT = times[i];
    this.current.source = this.o.inputs[input].sourceId;
    this.topology.pushSource(this.o.inputs[input].sourceId, values, times);
    this.current.source = undefined;
    this.positions[input] = offsets[offsets.length - 1] + 1;
    this.counters.recordsIn[input] += values.length;
    this.changed = true;
    const now = this.now();
    this.tracker.observe(input, maxT, now);
    if (this.tracker.isUpstream(input)) this.observeMarkers(input, values, now);
    this.advanceEventTime(now);
  }

  /** Moves event time forward: the actor's watermark, and each operator's when tracked per node. Returns whether it moved. */
  private advanceEventTime(now: number): boolean {
    const wm = this.tracker.advance(now);
    const nodes = this.nodeInputs;
    if (nodes !== undefined) return this.topology.advanceNodeWatermarks((i) => this.tracker.watermarkOver(nodes[i], now)) || wm !== undefined;
    if (wm !== undefined) this.topology.advanceWatermark(wm);
    return wm !== undefined;
  }

  /**
   * An upstream input's records are repartition envelopes; the watermark
   * records among them (engine/sinks/repartition-sink.ts) move its lanes.
   * They come after the records they cover, so the batch is processed first.
   */
  private observeMarkers(input: number, values: unknown[], now: number): void {
    for (let i = 0; i < values.length; i++) {
      const env = values[i] as { s?: number[]; w?: number; n?: number } | null;
      if (env === null || typeof env !== 'object' || env.w === undefined || !Array.isArray(env.s)) continue;
      this.tracker.observeLane(input, env.s[0], env.w >= MAX_EVENT_TIME ? Infinity : env.w, env.n ?? 1, now);
    }
  }

  /** Moves a position past records that never reach the pipeline (decode failures already dead-lettered). */
  skipTo(input: number, nextOffset: number): void {
    if (nextOffset > this.positions[input]) {
      this.positions[input] = nextOffset;
      this.changed = true;
    }
  }

  /** Input `input` reached event time `time` with no record (a heartbeat; the test kit's explicit watermark). */
  observeEventTime(input: number, time: number): void {
    const now = this.now();
    this.tracker.observe(input, time, now);
    const wm = this.tracker.advance(now);
    if (wm !== undefined) this.topology.advanceWatermark(wm);
    this.changed = true;
  }

  /** Settles when every epoch checkpointed so far is delivered (or the delivery failed). */
  async drainDeliveries(): Promise<void> {
    await this.delivery.drain();
  }

  /** A bounded input has no more records. */
  finishInput(input: number): void {
    this.tracker.finish(input);
    if (this.advanceEventTime(this.now())) this.changed = true;
  }

  /** Periodic work: idleness, processing-time timers, and the checkpoint when due. */
  async tick(): Promise<void> {
    if (!this.lifecycle.is('RUNNING')) return;
    const now = this.now();
    if (this.advanceEventTime(now)) this.changed = true;
    if (this.topology.fireProcessingTimers(now)) this.changed = true;
    const due = this.intervalUp(now);
    if ((due && (this.changed || this.outbox.pending > 0)) || this.o.store.needsCheckpoint()) await this.checkpoint();
    else if (due) {
      // Idle: nothing would change in LMDB, so no transaction. The durable
      // state is current as of now, which is what checkpoint age reports.
      this.lastCheckpoint = now;
      this.counters.lastCheckpointAt = now;
    }
  }

  /** Whether tick() at `now` may take a checkpoint (its interval is up, or the store needs one). */
  checkpointDue(now = this.now()): boolean {
    return this.lifecycle.is('RUNNING') && (this.intervalUp(now) || this.o.store.needsCheckpoint());
  }

  /** The earliest processing time at which tick() has work: a processing-time timer, or the checkpoint interval. */
  nextTickAt(): number {
    return Math.min(this.topology.nextTimer('processing') ?? Infinity, this.lastCheckpoint + this.o.checkpointIntervalMs - this.tickSlack);
  }

  // Ticks come every tickPeriodMs(): within half a tick of its time, a checkpoint is due now
  // rather than a whole tick late (interval 50 ms would otherwise mean a checkpoint every 75).
  private intervalUp(now: number): boolean {
    return now - this.lastCheckpoint >= this.o.checkpointIntervalMs - this.tickSlack;
  }

  /** Epochs checkpointed from now on wait for releaseDeliveries() (see DeliveryQueue.hold). */
  holdDeliveries(): void {
    this.delivery?.hold();
  }

  releaseDeliveries(): void {
    this.delivery?.release();
  }

  /** True when this actor should stop taking input: its sinks are behind. */
  get backpressured(): boolean {
    return (this.delivery?.backlog ?? 0) >= this.maxBacklog || this.outbox.pending >= 200_000;
  }

  get undeliveredEpochs(): number {
    return this.delivery?.backlog ?? 0;
  }

  /** Sinks of this actor failing right now (see DeliveryQueue.stalls). */
  stalls(): SinkStall[] {
    return this.delivery?.stalls() ?? [];
  }

  get watermarkValue(): number {
    return this.tracker.watermark;
  }

  /** Takes a checkpoint now (phases 1 and 2); delivery (phase 3) runs in the background. */
  async checkpoint(): Promise<void> {
    const started = this.now();
    const epoch = this.epoch + 1;
    // Phase 1: prepare.
    this.topology.checkpoint(epoch);
    this.forwardWatermarks(epoch, started);
    const entries = this.outbox.take();
    const positions = this.positionMap();
    const sources = this.o.snapshotSources?.();
    this.lastSources = sources;
    this.changed = false;
    // The changelog entry is filled by the store's recorder while the commit
    // runs, before the store writes the outbox in the same transaction.
    let recorder: ChangeRecorder | undefined;
    if (this.o.changelog || this.o.markers) {
      const token = `${this.markerPrefix}-${epoch}`;
      const m: ChangelogMarker = { token, epoch, positions, sources, at: this.now(), ...this.progressFigures() };
      const records: SinkRecord[] = [{ id: '', key: null, time: 0, value: { m } }];
      // The store reuses its key arrays between writes: copy each one.
      if (this.o.changelog) recorder = (d, k, v) => void records.push({ id: '', key: null, time: 0, value: { d, k: [...(k as unknown[])], v } });
      entries.push({ sinkId: CHANGELOG_SINK, records });
      this.markers = [...this.markers, token].slice(-16);
    }
    this.o.fault?.('after-prepare');
    // Phase 2: one durable transaction.
    const res = this.o.store.commit({
      epoch,
      positions,
      extra: { acked: this.delivery.delivered, sources, markers: this.markers, wm: this.watermarkSnapshot() },
      outbox: entries,
      ackEpochsUpTo: this.delivery.delivered,
      recorder,
    });
    this.epoch = epoch;
    // The schedule runs from checkpoint starts, so the commit's own time does not stretch the interval.
    this.lastCheckpoint = started;
    const c = this.counters;
    c.checkpoints++;
    const finished = this.now();
    c.lastCheckpointAt = finished;
    c.lastCheckpointMs = finished - started;
    c.lastCheckpointBytes = res.bytes;
    this.o.fault?.('after-commit');
    // Phase 3: deliver, then report (see delivered()).
    this.positionsAt.set(epoch, positions);
    this.noteLetters(epoch, entries);
    this.delivery.push(epoch, entries.map((e) => ({ epoch, sinkId: e.sinkId, records: e.records })));
    // res.durationMs is finer than the millisecond clock, but covers the commit only.
    this.o.observer?.checkpointed(epoch, Math.max(c.lastCheckpointMs, res.durationMs), res.bytes);
    if (this.delivery.failed) throw this.delivery.failed;
  }

  /** Drains: a final checkpoint, every epoch delivered, the acks committed; then the operators close. */
  async close(): Promise<void> {
    if (this.lifecycle.is('CLOSED', 'FAILED')) return;
    this.lifecycle.transition('CLOSING');
    try {
      await this.checkpoint();
      await this.delivery.drain();
      this.o.fault?.('after-deliver');
      this.topology.close();
      // A last transaction that only acks what was delivered, so a restart redelivers nothing.
      this.epoch++;
      this.o.store.commit({
        epoch: this.epoch,
        positions: this.positionMap(),
        // The sources' snapshot of the final checkpoint, not a new one: a custom source's
        // next() may have resolved during the drain with records nobody will process.
        extra: { acked: this.delivery.delivered, sources: this.lastSources, markers: this.markers, wm: this.watermarkSnapshot() },
        outbox: [],
        ackEpochsUpTo: this.delivery.delivered,
      });
      this.o.fault?.('after-ack');
      this.lifecycle.transition('CLOSED');
    } catch (err) {
      this.destroy(err as Error);
      throw err;
    }
  }

  /** Aborts: no checkpoint. What was not committed is redone from the last checkpoint on restart. */
  destroy(_err?: Error): void {
    if (this.lifecycle.is('CLOSED', 'FAILED')) return;
    this.lifecycle.transition('FAILED');
    this.delivery?.destroy();
  }

  /** Appends a watermark record to each forwarding sink whose upstream watermark advanced (SinkSpec.watermarks). */
  private forwardWatermarks(epoch: number, now: number): void {
    for (const f of this.forwarded) {
      const wm = this.tracker.watermarkOver(f.inputs, now);
      if (!(wm > f.sent)) continue;
      f.sent = wm;
      const t = Math.min(wm, MAX_EVENT_TIME);
      this.outbox.append(f.sinkId, epoch, [watermarkMarker(t)], [t], undefined);
    }
  }

  // ---- TopologyOutput -------------------------------------------------------

  toSink(sinkId: string, values: unknown[], times: number[], keys: Array<Key | undefined> | undefined): void {
    const c = this.counters.recordsOut;
    c.set(sinkId, (c.get(sinkId) ?? 0) + values.length);
    const direct = this.o.directSinks?.has(sinkId) === true;
    this.o.observer?.emitted(sinkId, this.epoch + 1, times, direct);
    if (direct) return;
    this.outbox.append(sinkId, this.epoch + 1, values, times, keys);
  }

  deadLetter(operatorId: string, value: unknown, reason: string, error?: unknown): void {
    const source = this.current.source;
    const topic = source === undefined ? undefined : this.o.inputs.find((i) => i.sourceId === source)?.topic;
    this.letter(buildLetter(this.letterCtx, { source, topic, partition: this.o.partition }, operatorId, reason, error, { value }, this.now()));
  }

  /** Records sent along each pipeline node's outputs (Topology.outputCounts); empty while restoring. */
  outputCounts(): Record<string, number> {
    return this.topology ? this.topology.outputCounts() : {};
  }

  /**
   * Dead-letters a record that never reached the pipeline (over a limit, or
   * failed decode or validation), with what locates it for a re-read.
   */
  deadLetterInput(
    input: number,
    offset: number,
    key: Uint8Array | string | null | undefined,
    content: { value?: unknown; raw?: Uint8Array | null },
    reason: string,
    error?: unknown,
    limit?: LimitBreach,
  ): void {
    const inp = this.o.inputs[input];
    const origin = { source: inp.sourceId, topic: inp.topic, partition: this.o.partition, offset, key: key ?? null };
    this.letter(buildLetter(this.letterCtx, origin, `source-${inp.sourceId}`, reason, error, content, this.now(), limit));
  }

  private letter(letter: DeadLetterRecord): void {
    this.outbox.append(DEAD_LETTER_SINK, this.epoch + 1, [letter], [letter.at], [letter.reason]);
    const recent = this.counters.recentDeadLetters;
    if (recent.push(letter) > RECENT_DEAD_LETTERS) recent.shift();
  }

  /** Counts an epoch's dead letters (the outbox keys them by reason), to add once the epoch is delivered. */
  private noteLetters(epoch: number, entries: ReadonlyArray<{ sinkId: string; records: ReadonlyArray<{ key: string | null }> }>): void {
    for (const e of entries) {
      if (e.sinkId !== DEAD_LETTER_SINK || e.records.length === 0) continue;
      const m = this.lettersAt.get(epoch) ?? new Map<string, number>();
      for (const r of e.records) m.set(r.key ?? '?', (m.get(r.key ?? '?') ?? 0) + 1);
      this.lettersAt.set(epoch, m);
    }
  }

  currentWatermark(): number {
    return this.tracker.watermark;
  }

  count(operatorId: string, name: string, n: number): void {
    const key = `${operatorId}:${name}`;
    const m = this.counters.operatorCounts;
    m.set(key, (m.get(key) ?? 0) + n);
  }

  /**
   * What `sluice status` shows of this partition, published with each
   * checkpoint marker: the watermark ("end" once every input finished,
   * null before the first), the windows waiting to fire (window operators'
   * "fire" timers: one per key and window for tumbling and session windows,
   * per key the next window to fire for hopping ones) and all timers.
   */
  private progressFigures(): Pick<ChangelogMarker, 'wm' | 'windows' | 'timers'> {
    const w = this.tracker.watermark;
    return {
      wm: w === Infinity ? 'end' : Number.isFinite(w) ? w : null,
      windows: this.o.store.timerCount('event', FIRE),
      timers: this.o.store.timerCount(),
    };
  }

  /** Per source id, so a checkpoint stays readable when a job's sources change. */
  private watermarkSnapshot(): { maxSeen: Record<string, number>; watermark: number } {
    const s = this.tracker.snapshot();
    const maxSeen: Record<string, number> = {};
    this.o.inputs.forEach((inp, i) => (maxSeen[inp.sourceId] = s.maxSeen[i]));
    return { maxSeen, watermark: s.watermark };
  }

  private delivered(epoch: number): void {
    // The sinks hold this epoch, and LMDB will record that only in the next checkpoint.
    this.o.fault?.('after-deliver');
    for (const [e, m] of [...this.lettersAt]) {
      if (e > epoch) continue;
      for (const [reason, n] of m) this.counters.deadLetters.set(reason, (this.counters.deadLetters.get(reason) ?? 0) + n);
      this.lettersAt.delete(e);
    }
    const pos = this.positionsAt.get(epoch);
    for (const e of [...this.positionsAt.keys()]) if (e <= epoch) this.positionsAt.delete(e);
    if (pos) this.o.onDelivered?.(epoch, pos);
  }
}

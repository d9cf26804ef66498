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
import { appendChangelogEntry, progressFigures, type CheckpointExtra } from './checkpoint-marker.ts';
import { ActorDeadLetters } from './actor-dead-letters.ts';
import { ActorEventTime } from './actor-event-time.ts';
import type { LimitBreach } from './input-limits.ts';
import { Lifecycle } from './lifecycle.ts';
import { DeliveryQueue } from './delivery-queue.ts';
import { OutboxBuffer, undeliveredEpochs } from './outbox.ts';
import { CheckpointSchedule } from './checkpoint-schedule.ts';
import type { SinkStall } from './delivery-policy.ts';
import { DEAD_LETTER_SINK, Topology, type TopologyOutput } from './topology.ts';

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
import { countCheckpoint, newActorCounters, tickPeriodMs, type ActorCounters, type ActorOptions } from './actor-options.ts';

export class PartitionActor implements TopologyOutput {
  readonly lifecycle = new Lifecycle<ActorState>('partition actor', 'CREATED', LEGAL);
  readonly counters: ActorCounters;
  private readonly positions: number[];
  private readonly eventTime: ActorEventTime;
  private readonly outbox: OutboxBuffer;
  private topology!: Topology;
  /** Set by open(); an actor still restoring (worker-host) has none yet: see the getters below. */
  private delivery!: DeliveryQueue;
  private epoch = 0;
  /** When to checkpoint and when to stop taking input (checkpoint-schedule.ts). */
  private readonly schedule: CheckpointSchedule;
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
  private readonly letters: ActorDeadLetters;

  constructor(private readonly o: ActorOptions) {
    this.now = o.now ?? Date.now;
    this.schedule = new CheckpointSchedule(o.checkpointIntervalMs, tickPeriodMs(o.checkpointIntervalMs), o.maxEpochRecords, o.maxUndeliveredRecords);
    this.positions = o.inputs.map(() => 0);
    this.eventTime = new ActorEventTime(o);
    this.outbox = new OutboxBuffer(o.partition);
    this.counters = newActorCounters(o.inputs.length);
    this.letters = new ActorDeadLetters(o, this.counters, (l) => this.outbox.append(DEAD_LETTER_SINK, this.epoch + 1, [l], [l.at], [l.reason]));
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
    const extra = meta?.extra as CheckpointExtra | undefined;
    const acked = extra?.acked ?? 0;
    this.restoredSources = extra?.sources ?? {};
    this.markers = extra?.markers ?? [];
    this.o.inputs.forEach((inp, i) => (this.positions[i] = meta?.positions[inp.sourceId] ?? 0));
    if (extra?.wm) this.eventTime.restore(extra.wm, this.now());
    this.delivery = new DeliveryQueue(this.o.actorId, this.o.partition, this.o.sinks, acked, (epoch) => this.delivered(epoch), this.o.delivery, this.o.transaction);
    this.delivery.observer = this.o.observer;
    this.delivery.onFailed = this.o.onFailed;
    for (const [epoch, entries] of undeliveredEpochs(this.o.store.readOutbox(), acked)) {
      this.letters.note(epoch, entries);
      this.delivery.push(epoch, entries);
    }
    this.topology = new Topology(this.o.job, this.o.partition, this.o.nodes, this.o.store, this);
    this.topology.start();
    this.schedule.started(this.now());
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
    this.eventTime.observeRecords(input, values, maxT, now);
    this.advanceEventTime(now);
  }

  /** Moves event time forward (ActorEventTime.advance). Returns whether it moved. */
  private advanceEventTime(now: number): boolean {
    return this.eventTime.advance(now, this.topology);
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
    this.eventTime.observeTime(input, time, this.now(), this.topology);
    this.changed = true;
  }

  /** Settles when every epoch checkpointed so far is delivered (or the delivery failed). */
  async drainDeliveries(): Promise<void> {
    await this.delivery.drain();
  }

  /** A bounded input has no more records. */
  finishInput(input: number): void {
    this.eventTime.finish(input);
    if (this.advanceEventTime(this.now())) this.changed = true;
  }

  /**
   * Periodic work: idleness, processing-time timers, and the checkpoint when
   * due: its interval is up, or the open epoch reached its bound (the worker
   * also ticks after a batch that filled it: checkpoint-schedule.ts).
   */
  async tick(): Promise<void> {
    if (!this.lifecycle.is('RUNNING')) return;
    const now = this.now();
    if (this.advanceEventTime(now)) this.changed = true;
    if (this.topology.fireProcessingTimers(now)) this.changed = true;
    const due = this.schedule.intervalUp(now);
    const full = this.epochFull;
    if (full) this.counters.epochBoundCheckpoints++;
    if ((due && (this.changed || this.outbox.pending > 0)) || full) await this.checkpoint();
    else if (due) {
      // Idle: nothing would change in LMDB, so no transaction. The durable
      // state is current as of now, which is what checkpoint age reports.
      this.schedule.started(now);
      this.counters.lastCheckpointAt = now;
    }
  }

  /** The open epoch reached its bound (output records, or the store's dirty entries): checkpoint now. */
  get epochFull(): boolean {
    return this.schedule.epochFull(this.outbox.pending, this.o.store.needsCheckpoint());
  }

  /** Whether tick() at `now` may take a checkpoint (its interval is up, or the epoch is full). */
  checkpointDue(now = this.now()): boolean {
    return this.lifecycle.is('RUNNING') && (this.schedule.intervalUp(now) || this.epochFull);
  }

  /** The earliest processing time at which tick() has work: a processing-time timer, or the checkpoint interval. */
  nextTickAt(): number {
    return Math.min(this.topology.nextTimer('processing') ?? Infinity, this.schedule.nextAt());
  }

  /** While held, epochs checkpointed wait to be delivered (DeliveryQueue.hold, release). */
  holdDeliveries(hold: boolean): void {
    if (hold) this.delivery?.hold();
    else this.delivery?.release();
  }

  /** True when this actor should stop taking input: its sinks are behind (CheckpointSchedule.behind). */
  get backpressured(): boolean {
    return this.schedule.behind(this.delivery?.backlog ?? 0, this.delivery?.backlogRecords ?? 0, this.outbox.pending);
  }

  get undeliveredEpochs(): number {
    return this.delivery?.backlog ?? 0;
  }

  /** Records of the undelivered epochs now, and the most there ever were (DeliveryQueue.backlogRecords). */
  get undeliveredRecords(): { now: number; peak: number } {
    return { now: this.delivery?.backlogRecords ?? 0, peak: this.delivery?.peakBacklogRecords ?? 0 };
  }

  /** Sinks of this actor failing right now (see DeliveryQueue.stalls). */
  stalls(): SinkStall[] {
    return this.delivery?.stalls() ?? [];
  }

  /** Takes a checkpoint now (phases 1 and 2); delivery (phase 3) runs in the background. */
  async checkpoint(): Promise<void> {
    const started = this.now();
    const epoch = this.epoch + 1;
    // Phase 1: prepare.
    this.topology.checkpoint(epoch);
    this.eventTime.forward(started, (sinkId, record, t) => this.outbox.append(sinkId, epoch, [record], [t], undefined));
    const entries = this.outbox.take();
    const positions = this.positionMap();
    const sources = this.o.snapshotSources?.();
    this.lastSources = sources;
    this.changed = false;
    // The changelog entry is filled by the store's recorder while the commit
    // runs, before the store writes the outbox in the same transaction.
    let recorder: ChangeRecorder | undefined;
    let recorded: (() => void) | undefined;
    if (this.o.changelog || this.o.markers) {
      const token = `${this.markerPrefix}-${epoch}`;
      ({ recorder, recorded } = appendChangelogEntry(entries, { token, epoch, positions, sources, at: this.now(), ...progressFigures(this.o.store, this.eventTime.watermark) }, this.o.changelog === true));
      this.markers = [...this.markers, token].slice(-16);
    }
    this.o.fault?.('after-prepare');
    // Phase 2: one durable transaction.
    const res = this.o.store.commit({
      epoch,
      positions,
      extra: { acked: this.delivery.delivered, sources, markers: this.markers, wm: this.eventTime.snapshot() },
      outbox: entries,
      ackEpochsUpTo: this.delivery.delivered,
      recorder,
      recorded,
    });
    this.epoch = epoch;
    // The schedule runs from checkpoint starts, so the commit's own time does not stretch the interval.
    this.schedule.started(started);
    const c = this.counters;
    countCheckpoint(c, started, this.now(), res.bytes, entries);
    this.o.fault?.('after-commit');
    // Phase 3: deliver, then report (see delivered()).
    this.positionsAt.set(epoch, positions);
    this.letters.note(epoch, entries);
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
        extra: { acked: this.delivery.delivered, sources: this.lastSources, markers: this.markers, wm: this.eventTime.snapshot() },
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
    this.letters.fromOperator(operatorId, this.current.source, value, reason, error, this.now());
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
    this.letters.fromInput(input, offset, key, content, reason, error, limit, this.now());
  }

  currentWatermark(): number {
    return this.eventTime.watermark;
  }

  count(operatorId: string, name: string, n: number): void {
    const key = `${operatorId}:${name}`;
    const m = this.counters.operatorCounts;
    m.set(key, (m.get(key) ?? 0) + n);
  }

  private delivered(epoch: number): void {
    // The sinks hold this epoch, and LMDB will record that only in the next checkpoint.
    this.o.fault?.('after-deliver');
    this.letters.delivered(epoch);
    const pos = this.positionsAt.get(epoch);
    for (const e of [...this.positionsAt.keys()]) if (e <= epoch) this.positionsAt.delete(e);
    if (pos) this.o.onDelivered?.(epoch, pos);
  }
}

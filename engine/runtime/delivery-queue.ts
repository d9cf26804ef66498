/**
 * The queue that delivers an actor's durable outbox epochs to its sinks,
 * under the one delivery policy (delivery-policy.ts).
 */
import { isTwoPhase, type AnySinkDriver, type EpochTransaction, type SinkDelivery, type SinkRecord } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError, oneLine } from '../errors.ts';
import { CHANGELOG_SINK } from './changelog.ts';
import { recordCount } from './changelog-pack.ts';
import { DeliveryPolicy, secs, type SinkStall } from './delivery-policy.ts';
import type { OutboxEntry } from './outbox.ts';
import { DEAD_LETTER_SINK } from './topology.ts';

/**
 * Optional instrumentation of deliveries (metrics/actor-metrics.ts implements
 * it): called per outbox entry or epoch, never per record.
 */
export interface DeliveryObserver {
  /** A sink acknowledged one outbox entry. */
  delivered(sinkId: string, epoch: number, records: readonly SinkRecord[]): void;
  /** Every sink has `epoch`; it left the queue. */
  epochDelivered(epoch: number): void;
  /** A delivery attempt failed; `retrying` is false when the queue gave up. */
  deliveryFailed(sinkId: string, retrying: boolean): void;
}

/** Epochs a two-phase sink prepares and commits in one go at most. */
const MAX_EPOCHS_PER_COMMIT = 32;

/** An epoch in the queue: how many of its entries are undelivered, and how many of those go to sinks other than the changelog. */
interface QueuedEpoch {
  epoch: number;
  pending: number;
  others: number;
  records: number;
}

/** One sink's undelivered entries, in epoch order. */
interface Lane {
  items: OutboxEntry[];
  busy: boolean;
  /** The sink is two-phase: it prepares, then commits up to MAX_EPOCHS_PER_COMMIT epochs at a time. */
  twoPhase: boolean;
  /** The changelog's lane: it takes an epoch only once every other sink has it. */
  last: boolean;
  /** The current run of failed attempts, if the last attempt failed. */
  stall: (SinkStall & { loggedAt: number; unlogged: number }) | undefined;
}

/**
 * Delivers durable outbox entries to the sinks' drivers, through their
 * contract (contracts/sinks.ts): an idempotent sink gets deliver() per epoch;
 * a two-phase sink gets prepare() for each epoch queued for it (up to
 * MAX_EPOCHS_PER_COMMIT), then one commit() for them all. Each sink gets its
 * epochs in order; failures are retried under the one delivery policy
 * (delivery-policy.ts). Sinks do not wait for each other (a slow one does
 * not hold the rest back), except the changelog (CHANGELOG_SINK, the actor's
 * Kafka transaction: its marker must not get ahead of the output it covers),
 * which takes an epoch only once every other sink has it. Kafka sinks add
 * their records to that transaction in their prepare() (`transaction`).
 * `delivered` is the highest epoch every sink has.
 */
export class DeliveryQueue {
  private readonly queue: QueuedEpoch[] = [];
  private readonly byEpoch = new Map<number, QueuedEpoch>();
  private readonly lanes = new Map<string, Lane>();
  private failure: Error | undefined;
  private held = false;
  private scheduled = false;
  private waiters: Array<() => void> = [];
  private destroyed = false;
  private readonly sleepers: Array<() => void> = [];
  delivered: number;
  /** Records of the epochs in the queue (every sink's, the changelog's included), and the most there ever were. */
  backlogRecords = 0;
  peakBacklogRecords = 0;
  retries = 0;
  errors = 0;
  observer: DeliveryObserver | undefined;
  /** Called once, when the queue fails (a sink gave up): the actor must not wait for its next checkpoint to learn it. */
  onFailed: ((err: Error) => void) | undefined;

  constructor(
    private readonly actorId: string,
    private readonly partition: number,
    private readonly sinks: ReadonlyMap<string, AnySinkDriver>,
    deliveredUpTo: number,
    private readonly onDelivered: (epoch: number, records: number) => void,
    private readonly policy = new DeliveryPolicy(),
    /** The actor's Kafka transaction of an epoch, for a sink's prepare() (changelog.ts); none without brokers. */
    private readonly transaction?: (sinkId: string, epoch: number) => EpochTransaction,
  ) {
    this.delivered = deliveredUpTo;
  }

  /** Epochs committed but not yet delivered to every sink. */
  get backlog(): number {
    return this.queue.length;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  push(epoch: number, entries: OutboxEntry[]): void {
    if (this.failure) throw this.failure;
    const q: QueuedEpoch = { epoch, pending: 0, others: 0, records: 0 };
    for (const e of entries) {
      if (e.records.length === 0) continue;
      let lane = this.lanes.get(e.sinkId);
      if (lane === undefined) {
        const sink = this.sinks.get(e.sinkId);
        lane = { items: [], busy: false, twoPhase: sink !== undefined && isTwoPhase(sink), last: e.sinkId === CHANGELOG_SINK, stall: undefined };
        this.lanes.set(e.sinkId, lane);
      }
      lane.items.push(e);
      q.pending++;
      if (!lane.last) q.others++;
      q.records += recordCount(e);
    }
    this.queue.push(q);
    this.byEpoch.set(epoch, q);
    this.backlogRecords += q.records;
    if (this.backlogRecords > this.peakBacklogRecords) this.peakBacklogRecords = this.backlogRecords;
    this.schedule();
  }

  /**
   * Holds deliveries back: epochs pushed meanwhile wait for release(). Used
   * while the LMDB transaction that makes them durable is still open (a
   * worker commits several actors' checkpoints in one, see worker-host.ts).
   */
  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    this.schedule();
  }

  /** Resolves when everything queued so far is delivered (or rejects with the failure). */
  async drain(): Promise<void> {
    this.release();
    while (this.queue.length > 0 && !this.failure) await new Promise<void>((r) => this.waiters.push(r));
    if (this.failure) throw this.failure;
  }

  // On a later microtask: the caller (a checkpoint) finishes before any delivery starts or is reported.
  private schedule(): void {
    if (this.scheduled || this.held) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    if (this.held || this.failure) return;
    this.advance();
    for (const lane of this.lanes.values()) if (!lane.busy && lane.items.length > 0) void this.runLane(lane);
  }

  /** The lane's next go: one entry, or for a two-phase sink its leading epochs (for the changelog, those every other sink has). */
  private next(lane: Lane): OutboxEntry[] {
    if (!lane.twoPhase) return lane.items.slice(0, 1);
    let n = 0;
    while (n < lane.items.length && n < MAX_EPOCHS_PER_COMMIT && (!lane.last || this.byEpoch.get(lane.items[n].epoch)!.others === 0)) n++;
    return lane.items.slice(0, n);
  }

  private async runLane(lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (!this.failure && !this.held) {
        const batch = this.next(lane);
        if (batch.length === 0) break;
        try {
          await this.deliverOne(lane, batch);
        } catch {
          break; // deliverOne recorded the failure; drain() and push() report it
        }
        lane.items.splice(0, batch.length);
        for (const e of batch) {
          const q = this.byEpoch.get(e.epoch)!;
          q.pending--;
          if (!lane.last) q.others--;
        }
        this.advance();
        // This sink's progress may have made epochs ready for the changelog.
        if (!lane.last) this.pump();
      }
    } finally {
      lane.busy = false;
      this.notify();
    }
  }

  /** Retires the leading epochs every sink has, and reports the last. */
  private advance(): void {
    let last: number | undefined;
    let n = 0;
    while (this.queue.length > 0 && this.queue[0].pending === 0) {
      const q = this.queue.shift()!;
      this.byEpoch.delete(q.epoch);
      last = q.epoch;
      n += q.records;
    }
    this.backlogRecords -= n;
    if (last !== undefined) {
      this.delivered = last;
      try {
        this.onDelivered(last, n);
        this.observer?.epochDelivered(last);
      } catch (err) {
        // Reported like a sink failure: drain() and the next push() throw it.
        this.fail(err as Error);
      }
    }
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /**
   * One entry through deliver(), or consecutive epochs of a two-phase sink
   * through prepare() each and one commit(), retried as a whole (prepared
   * again: a prepare replaces its last staging) under the policy (delivery-policy.ts):
   * with backoff while the errors are retryable and the budget lasts, every
   * retry logged (rate-limited) with its cause, the run of failures visible
   * as a stall (stalls()). Then, or at a non-retryable error, the queue fails.
   */
  private async deliverOne(lane: Lane, es: OutboxEntry[]): Promise<void> {
    const e = es[es.length - 1];
    const sink = this.sinks.get(e.sinkId);
    if (!sink) {
      this.fail(new SluiceError(ErrorCodes.SINK, `${this.actorId}: outbox names unknown sink "${e.sinkId}"`));
      throw this.failure;
    }
    const p = this.policy;
    const which = es.length === 1 ? `epoch ${e.epoch}` : `epochs ${es[0].epoch}–${e.epoch}`;
    for (let attempt = 1; ; attempt++) {
      if (this.destroyed) {
        // Aborted (destroy): whoever destroyed the actor reports why; this is not a second failure.
        this.failure ??= new SluiceError(ErrorCodes.ABORTED, `${this.actorId}: delivery aborted`);
        throw this.failure;
      }
      try {
        if (isTwoPhase(sink)) {
          for (const x of es) await sink.prepare(this.delivery(x), this.transaction?.(x.sinkId, x.epoch));
          await sink.commit(es.map((x) => ({ actorId: this.actorId, partition: this.partition, epoch: x.epoch })));
        } else await sink.deliver(this.delivery(e));
        for (const x of es) this.observer?.delivered(x.sinkId, x.epoch, x.records);
        if (lane.stall) {
          p.log(`${this.sinkName(e.sinkId)} of partition ${this.partition} recovered: ${which} delivered after ${lane.stall.failures} failed attempts in ${secs(p.now() - lane.stall.since)}`);
          lane.stall = undefined;
        }
        return;
      } catch (err) {
        this.errors++;
        const now = p.now();
        const st = (lane.stall ??= { sink: e.sinkId, since: now, failures: 0, cause: '', loggedAt: -Infinity, unlogged: 0 });
        st.failures++;
        st.cause = oneLine(err);
        const retryable = DeliveryPolicy.retryable(err);
        const spent = now - st.since;
        const giveUp = !retryable || spent >= p.retryForMs;
        this.observer?.deliveryFailed(e.sinkId, !giveUp);
        if (this.destroyed) continue; // the check at the top ends it
        if (giveUp) {
          const why = !retryable
            ? 'not retryable'
            : `gave up after ${st.failures} attempts in ${secs(spent)} (retry budget ${p.retryForMs} ms, --sink-retry-for)`;
          this.fail(new SluiceError(ErrorCodes.SINK, `${this.sinkName(e.sinkId)} of partition ${this.partition} failed for ${which}, ${why}: ${st.cause}`, { cause: err }));
          throw this.failure;
        }
        this.retries++;
        const delay = Math.min(p.delay(attempt), Math.max(0, p.retryForMs - spent));
        if (now - st.loggedAt >= p.logEveryMs) {
          const more = st.unlogged > 0 ? `, ${st.unlogged} more retries since the last line` : '';
          p.log(`${this.sinkName(e.sinkId)} of partition ${this.partition} failed for ${which} (${st.cause}); retry ${attempt} in ${secs(delay)}, failing for ${secs(spent)}${more}; gives up after ${secs(p.retryForMs)}`);
          st.loggedAt = now;
          st.unlogged = 0;
        } else st.unlogged++;
        await this.sleep(delay);
      }
    }
  }

  /** How a sink is named to users: the internal ones by what they are. */
  private sinkName(sinkId: string): string {
    if (sinkId === CHANGELOG_SINK) return 'the Kafka transaction (changelog, checkpoint marker and Kafka sinks\' output)';
    if (sinkId === DEAD_LETTER_SINK) return 'the dead-letter sink';
    return `sink "${sinkId}"`;
  }

  private fail(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    this.onFailed?.(err);
  }

  /** Sinks of this partition failing right now, with since when and why (for /healthz). */
  stalls(): SinkStall[] {
    const out: SinkStall[] = [];
    for (const l of this.lanes.values()) if (l.stall) out.push({ sink: l.stall.sink, since: l.stall.since, failures: l.stall.failures, cause: l.stall.cause });
    return out;
  }

  /** Aborts: a retry in progress stops at its next attempt, and wakes from its backoff now. */
  destroy(): void {
    this.destroyed = true;
    for (const w of this.sleepers.splice(0)) w();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        const i = this.sleepers.indexOf(done);
        if (i >= 0) this.sleepers.splice(i, 1);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.sleepers.push(done);
    });
  }

  private delivery(e: OutboxEntry): SinkDelivery {
    return { sinkId: e.sinkId, actorId: this.actorId, partition: this.partition, epoch: e.epoch, records: e.records };
  }
}

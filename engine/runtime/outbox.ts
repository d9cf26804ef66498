/**
 * The in-memory half of the outbox: records that sink nodes received during
 * the current epoch, waiting for the checkpoint that makes them durable, and
 * the queue that delivers durable epochs to the sink drivers in order.
 *
 * Record ids are `<partition>-<epoch>-<sink seq>`: deterministic because the
 * outbox content is fixed by the committed checkpoint, so a redelivery after a
 * crash carries the same ids.
 */
import type { Key } from '../contracts/operator.ts';
import type { SinkDelivery, SinkDriver, SinkRecord } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { CHANGELOG_SINK } from './changelog.ts';

export interface OutboxEntry {
  epoch: number;
  sinkId: string;
  records: SinkRecord[];
}

export class OutboxBuffer {
  private readonly bySink = new Map<string, SinkRecord[]>();
  private size = 0;

  constructor(private readonly partition: number) {}

  get pending(): number {
    return this.size;
  }

  append(sinkId: string, epoch: number, values: unknown[], times: number[], keys: Array<Key | undefined> | undefined): void {
    let list = this.bySink.get(sinkId);
    if (!list) this.bySink.set(sinkId, (list = []));
    const prefix = `${this.partition}-${epoch}-`;
    for (let i = 0; i < values.length; i++) {
      const k = keys?.[i];
      list.push({ id: prefix + list.length, key: k === undefined ? null : String(k), value: values[i], time: times[i] });
    }
    this.size += values.length;
  }

  /** Takes this epoch's records, sink by sink, and empties the buffer. */
  take(): Array<{ sinkId: string; records: SinkRecord[] }> {
    const out = [...this.bySink].map(([sinkId, records]) => ({ sinkId, records }));
    this.bySink.clear();
    this.size = 0;
    return out;
  }
}

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

/** Epochs a deliverEpochs() sink takes in one call at most. */
const MAX_EPOCHS_PER_CALL = 32;

/** An epoch in the queue: how many of its entries are undelivered, and how many of those go to plain sinks. */
interface QueuedEpoch {
  epoch: number;
  pending: number;
  plain: number;
  records: number;
}

/** One sink's undelivered entries, in epoch order. */
interface Lane {
  items: OutboxEntry[];
  busy: boolean;
  /** The sink has deliverEpochs(): it takes several epochs per call, once the plain sinks have them. */
  batched: boolean;
}

/**
 * Delivers durable outbox entries to the sinks' drivers: each sink gets its
 * epochs in order, one at a time, and retries retryable failures with
 * backoff. Sinks do not wait for each other (a slow one does not hold the
 * rest back), except that a sink with deliverEpochs() (the changelog: its
 * marker must not get ahead of the output it covers) takes an epoch only
 * once every plain sink has it, and then takes every such epoch queued so
 * far in one call. `delivered` is the highest epoch every sink has
 * acknowledged.
 */
export class DeliveryQueue {
  private readonly queue: QueuedEpoch[] = [];
  private readonly byEpoch = new Map<number, QueuedEpoch>();
  private readonly lanes = new Map<string, Lane>();
  private failure: Error | undefined;
  private held = false;
  private scheduled = false;
  private waiters: Array<() => void> = [];
  delivered: number;
  retries = 0;
  errors = 0;
  observer: DeliveryObserver | undefined;

  constructor(
    private readonly actorId: string,
    private readonly partition: number,
    private readonly sinks: ReadonlyMap<string, SinkDriver>,
    deliveredUpTo: number,
    private readonly onDelivered: (epoch: number, records: number) => void,
    private readonly maxRetries = 8,
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
    const q: QueuedEpoch = { epoch, pending: 0, plain: 0, records: 0 };
    for (const e of entries) {
      if (e.records.length === 0) continue;
      let lane = this.lanes.get(e.sinkId);
      if (lane === undefined) {
        lane = { items: [], busy: false, batched: this.sinks.get(e.sinkId)?.deliverEpochs !== undefined };
        this.lanes.set(e.sinkId, lane);
      }
      lane.items.push(e);
      q.pending++;
      if (!lane.batched) q.plain++;
      q.records += e.records.length;
    }
    this.queue.push(q);
    this.byEpoch.set(epoch, q);
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

  /** The lane's next call: one entry, or for a batched sink every leading epoch the plain sinks are done with. */
  private next(lane: Lane): OutboxEntry[] {
    if (!lane.batched) return lane.items.slice(0, 1);
    let n = 0;
    while (n < lane.items.length && n < MAX_EPOCHS_PER_CALL && this.byEpoch.get(lane.items[n].epoch)!.plain === 0) n++;
    return lane.items.slice(0, n);
  }

  private async runLane(lane: Lane): Promise<void> {
    lane.busy = true;
    try {
      while (!this.failure && !this.held) {
        const batch = this.next(lane);
        if (batch.length === 0) break;
        try {
          await this.deliverOne(batch);
        } catch {
          break; // deliverOne recorded the failure; drain() and push() report it
        }
        lane.items.splice(0, batch.length);
        for (const e of batch) {
          const q = this.byEpoch.get(e.epoch)!;
          q.pending--;
          if (!lane.batched) q.plain--;
        }
        this.advance();
        // A plain sink's progress may have made epochs ready for a batched one.
        if (!lane.batched) this.pump();
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
    if (last !== undefined) {
      this.delivered = last;
      try {
        this.onDelivered(last, n);
        this.observer?.epochDelivered(last);
      } catch (err) {
        // Reported like a sink failure: drain() and the next push() throw it.
        this.failure ??= err as Error;
      }
    }
    this.notify();
  }

  private notify(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** One entry through deliver(), or several consecutive epochs of one sink through deliverEpochs(). */
  private async deliverOne(es: OutboxEntry[]): Promise<void> {
    const e = es[es.length - 1];
    const sink = this.sinks.get(e.sinkId);
    if (!sink) {
      this.failure = new SluiceError(ErrorCodes.SINK, `${this.actorId}: outbox names unknown sink "${e.sinkId}"`);
      throw this.failure;
    }
    for (let attempt = 0; ; attempt++) {
      try {
        if (es.length === 1) await sink.deliver(this.delivery(e));
        else await sink.deliverEpochs!(es.map((x) => this.delivery(x)));
        for (const x of es) this.observer?.delivered(x.sinkId, x.epoch, x.records);
        return;
      } catch (err) {
        this.errors++;
        const retryable = !(err instanceof SluiceError) || err.retryable;
        const giveUp = !retryable || attempt >= this.maxRetries;
        this.observer?.deliveryFailed(e.sinkId, !giveUp);
        if (giveUp) {
          const which = es.length === 1 ? `epoch ${e.epoch}` : `epochs ${es[0].epoch}–${e.epoch}`;
          this.failure = new SluiceError(ErrorCodes.SINK, `${this.actorId}: sink "${e.sinkId}" failed for ${which}`, { cause: err });
          throw this.failure;
        }
        this.retries++;
        const delay = Math.min(5_000, 50 * 2 ** attempt) * (0.5 + Math.random() / 2);
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  private delivery(e: OutboxEntry): SinkDelivery {
    return { sinkId: e.sinkId, actorId: this.actorId, partition: this.partition, epoch: e.epoch, records: e.records };
  }
}

/**
 * The outbox epochs a restarted actor must deliver again: those after
 * `acked`, in epoch order, each as one entry per sink. The store may return
 * one epoch's records for a sink in several chunks; they are merged, because
 * a sink delivers an (epoch, sink) as one unit (the file sink writes one
 * file). The changelog comes last in each epoch: its marker must not get
 * ahead of the output it covers (changelog.ts). The DeliveryQueue enforces
 * that too; the order keeps it true for anything that reads the list.
 */
export function undeliveredEpochs(stored: Iterable<{ epoch: number; sinkId: string; records: unknown[] }>, acked: number): Array<[number, OutboxEntry[]]> {
  const pending = new Map<number, Map<string, OutboxEntry>>();
  for (const e of stored) {
    if (e.epoch <= acked) continue;
    const bySink = pending.get(e.epoch) ?? new Map<string, OutboxEntry>();
    const entry = bySink.get(e.sinkId);
    if (entry) entry.records.push(...(e.records as SinkRecord[]));
    else bySink.set(e.sinkId, { epoch: e.epoch, sinkId: e.sinkId, records: [...(e.records as SinkRecord[])] });
    pending.set(e.epoch, bySink);
  }
  return [...pending]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, bySink]) => [epoch, [...bySink.values()].sort((a, b) => Number(a.sinkId === CHANGELOG_SINK) - Number(b.sinkId === CHANGELOG_SINK))]);
}

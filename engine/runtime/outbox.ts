/**
 * The in-memory half of the outbox: records that sink nodes received during
 * the current epoch, waiting for the checkpoint that makes them durable, and
 * the queue that delivers durable epochs to the sink drivers in order.
 *
 * Record ids are `<partition>-<epoch>-<sink seq>`: deterministic because the
 * outbox content is fixed by the committed checkpoint, so a redelivery after a
 * crash carries the same ids.
 */
import type { Key } from '../../jobs/api/operator.ts';
import type { SinkDelivery, SinkDriver, SinkRecord } from '../../jobs/api/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

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

/**
 * Delivers durable outbox entries, one epoch at a time and in epoch order, to
 * each sink's driver; retries retryable failures with backoff. `delivered`
 * is the highest epoch every sink has acknowledged.
 */
/** Epochs delivered in one round at most (a round holds their entries in memory). */
const MAX_EPOCHS_PER_ROUND = 32;

export class DeliveryQueue {
  private readonly queue: OutboxEntry[][] = [];
  private running: Promise<void> | undefined;
  private failure: Error | undefined;
  private held = false;
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

  /** Epochs committed but not yet delivered. */
  get backlog(): number {
    return this.queue.length;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  push(epoch: number, entries: OutboxEntry[]): void {
    if (this.failure) throw this.failure;
    this.queue.push(entries.length ? entries : [{ epoch, sinkId: '', records: [] }]);
    this.start();
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
    this.start();
  }

  private start(): void {
    // Start on a later microtask: run() may finish synchronously (nothing to
    // deliver), and its `finally` must clear `running` after this assignment.
    if (!this.running && !this.held && this.queue.length > 0) this.running = Promise.resolve().then(() => this.run());
  }

  /** Resolves when everything queued so far is delivered (or rejects with the failure). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
    if (this.failure) throw this.failure;
  }

  private async run(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.failure) {
        // Every epoch queued so far goes in one round (up to a cap): each sink gets its epochs
        // in order, and a sink with deliverEpochs() gets them in one call, after the others
        // (the changelog's marker must not get ahead of the output it covers).
        const round = this.queue.slice(0, MAX_EPOCHS_PER_ROUND);
        const grouped = new Map<string, OutboxEntry[]>();
        let n = 0;
        for (const entries of round) {
          for (const e of entries) {
            if (e.records.length === 0) continue;
            n += e.records.length;
            if (this.sinks.get(e.sinkId)?.deliverEpochs) {
              const g = grouped.get(e.sinkId);
              if (g) g.push(e);
              else grouped.set(e.sinkId, [e]);
            } else await this.deliverOne([e]);
          }
        }
        for (const g of grouped.values()) await this.deliverOne(g);
        this.queue.splice(0, round.length);
        this.delivered = round[round.length - 1][0].epoch;
        this.onDelivered(this.delivered, n);
        this.observer?.epochDelivered(this.delivered);
      }
    } finally {
      this.running = undefined;
    }
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

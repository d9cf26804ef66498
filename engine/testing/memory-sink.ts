/**
 * In-memory sinks for the test kit. A `MemorySink` stands for the external
 * system a sink writes to: it outlives crashes of the job, and it stores
 * records by their deterministic id, as an idempotent sink would (the sink
 * contract, engine/contracts/sinks.ts). So a redelivery after a crash
 * overwrites itself, and lost or doubled output shows as such.
 *
 * The driver gives each incarnation of the job its own `SinkConnection` to
 * the memory sink; a crash cuts the connection, so a delivery the crashed
 * incarnation still had in flight never lands (as if the process died
 * before it reached the network).
 */
import type { SinkDelivery, SinkDriver } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

/** One record as the sink holds it. */
export interface OutputRecord<T = unknown> {
  /** Deterministic id `<partition>-<epoch>-<seq>`. */
  readonly id: string;
  readonly key: string | null;
  readonly value: T;
  /** Event time, ms. */
  readonly time: number;
  readonly partition: number;
  readonly epoch: number;
}

export class MemorySink {
  private readonly byId = new Map<string, OutputRecord>();
  /** Calls to deliver that reached the sink. */
  deliveries = 0;
  /** Records that arrived again with an id the sink already held (redeliveries after a crash). */
  redelivered = 0;
  /** Ids redelivered with a different value or key: a sink contract breach (output must be deterministic per id). */
  readonly conflicts: string[] = [];

  constructor(readonly sinkId: string) {}

  /** @internal Applies one delivery (the driver's connections call it). */
  accept(d: SinkDelivery): void {
    this.deliveries++;
    for (let i = 0; i < d.records.length; i++) {
      const r = d.records[i];
      const prev = this.byId.get(r.id);
      if (prev !== undefined) {
        this.redelivered++;
        if (prev.key !== r.key || !sameValue(prev.value, r.value)) this.conflicts.push(r.id);
      }
      this.byId.set(r.id, { id: r.id, key: r.key, value: r.value, time: r.time, partition: d.partition, epoch: d.epoch });
    }
  }

  /** Every record held, in emission order within each partition (partition, then epoch, then sequence). */
  records<T = unknown>(): Array<OutputRecord<T>> {
    return [...this.byId.values()].sort(compareRecords) as Array<OutputRecord<T>>;
  }

  /** The values of records(). */
  values<T = unknown>(): T[] {
    return this.records<T>().map((r) => r.value);
  }

  get size(): number {
    return this.byId.size;
  }

  /** Forgets everything (for a test that reuses a driver across cases). */
  clear(): void {
    this.byId.clear();
    this.deliveries = 0;
    this.redelivered = 0;
    this.conflicts.length = 0;
  }
}

// A redelivered value comes back from the LMDB outbox (msgpack), so it is compared as JSON:
// its prototype and undefined fields may differ from the first delivery's, its content may not.
function sameValue(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function compareRecords(a: OutputRecord, b: OutputRecord): number {
  return a.partition - b.partition || a.epoch - b.epoch || seq(a.id) - seq(b.id);
}

function seq(id: string): number {
  return Number(id.slice(id.lastIndexOf('-') + 1));
}

/** One incarnation's driver for a memory sink. */
export class SinkConnection implements SinkDriver {
  private cut = false;

  constructor(private readonly sink: MemorySink) {}

  async open(): Promise<void> {}

  async deliver(d: SinkDelivery): Promise<void> {
    if (this.cut) throw new SluiceError(ErrorCodes.SINK, `test driver: the job crashed; sink "${this.sink.sinkId}" is unreachable`, { retryable: false });
    this.sink.accept(d);
  }

  async close(): Promise<void> {}

  /** The incarnation crashed: nothing more of it reaches the sink. */
  sever(): void {
    this.cut = true;
  }
}

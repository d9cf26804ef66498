/**
 * The actors' one input loop on a worker, for the batches the main thread
 * posts (Kafka input): skip what was processed before a restart, pass the
 * gate (limits, decode, validate, event time), ingest; then tick if the
 * batch filled the epoch (worker-ticks.ts), and report the batch processed,
 * with whether the actor is backpressured.
 *
 * Batches wait in the slot's `queued` while the actor restores its state,
 * and while it is backpressured (checkpoint-schedule.ts): the Kafka input
 * stops sending once its in-flight bound is reached, so what waits is
 * bounded in bytes, and its epochs do not grow meanwhile.
 */
import type { PartitionActor } from './partition-actor.ts';
import type { FromWorker } from './protocol.ts';
import { batchLength, wireBytes, type RecordBatchWire } from './record-batch.ts';
import type { InputBinding } from './embedded-pull.ts';
import type { ActorStoreHandle } from './stores.ts';
import type { ChangelogDriver } from './changelog.ts';
import type { WorkerTicks } from './worker-ticks.ts';

export interface Slot {
  actor: PartitionActor;
  store: ActorStoreHandle;
  inputs: InputBinding[];
  leaseToken: string;
  finishedReported: boolean;
  /** The actor's changelog producer (Kafka jobs). */
  changelog: ChangelogDriver | undefined;
  /** False while the state is restored from the changelog; batches wait in `queued`. */
  ready: boolean;
  /**
   * Batches (and ends of input) waiting, in order: while the state is
   * restored, and while the actor is backpressured. They wait as the wire
   * bytes the Kafka input's in-flight bound counts, not as the state
   * entries, output and changelog records they would become.
   */
  queued: Array<{ input: number; wire?: RecordBatchWire }>;
  /** Settles when the actor is open (restored, if it had to be). */
  opening: Promise<void>;
}


export class WorkerInput {
  constructor(
    private readonly slots: ReadonlyMap<string, Slot>,
    private readonly post: (msg: FromWorker) => void,
    private readonly ticks: () => WorkerTicks,
  ) {}

  onBatch(actorId: string, input: number, wire: RecordBatchWire): void {
    const s = this.slots.get(actorId);
    if (s && (!s.ready || s.queued.length > 0 || s.actor.backpressured)) s.queued.push({ input, wire });
    else this.processBatch(actorId, s, input, wire);
  }

  /** Processes what waited in `queued`, in order, until the actor is backpressured again. */
  drain(s: Slot): void {
    while (s.ready && s.queued.length > 0 && !s.actor.backpressured) {
      const q = s.queued.shift()!;
      if (q.wire) this.processBatch(s.actor.id, s, q.input, q.wire);
      else this.endInput(s.actor.id, s, q.input);
    }
  }

  private processBatch(actorId: string, s: Slot | undefined, input: number, wire: RecordBatchWire): void {
    const n = batchLength(wire);
    if (!s || !s.actor.lifecycle.is('RUNNING')) {
      // Revoked while the batch was in flight: the new owner reads it again from the checkpoint.
      this.post({ t: 'processed', actorId, records: n, bytes: wireBytes(wire), backpressured: false });
      return;
    }
    // The actor's one input loop: skip what was processed before a restart,
    // pass the gate (limits, decode, validate, event time), ingest.
    const gate = s.inputs[input].gate!;
    const values: unknown[] = [];
    const times: number[] = [];
    const offsets: number[] = [];
    const meta = wire.meta;
    for (let i = 0; i < n; i++) {
      const offset = meta[2 * i];
      if (offset < s.actor.position(input)) continue;
      if (!gate.admitAt(wire, i)) continue;
      values.push(gate.value);
      times.push(gate.time);
      offsets.push(offset);
    }
    gate.endBatch();
    if (values.length) s.actor.ingest(input, values, times, offsets);
    if (n > 0) s.actor.skipTo(input, meta[2 * (n - 1)] + 1);
    // The timer's ticks starve while batches keep coming (worker-ticks.ts): a batch that
    // filled the epoch, or after which the interval is up, ticks now. The checkpoint is committed on return.
    if (s.actor.checkpointDue()) void this.ticks().tickAll();
    this.post({ t: 'processed', actorId, records: n, bytes: wireBytes(wire), backpressured: s.actor.backpressured });
  }

  /**
   * A bounded run's input reached its end: event time of that input goes to
   * the end (once all inputs are there, every window and timer fires), and
   * the runner hears that the partition is done.
   */
  onEndInput(actorId: string, input: number): void {
    const s = this.slots.get(actorId);
    if (s && (!s.ready || s.queued.length > 0)) s.queued.push({ input });
    else this.endInput(actorId, s, input);
  }

  private endInput(actorId: string, s: Slot | undefined, input: number): void {
    // Revoked meanwhile: the next owner is told again.
    if (!s || !s.actor.lifecycle.is('RUNNING') || s.inputs[input].finished) return;
    s.inputs[input].finished = true;
    s.actor.finishInput(input);
    if (!s.finishedReported && s.inputs.every((b) => b.finished)) {
      s.finishedReported = true;
      this.post({ t: 'finished', actorId });
    }
  }
}

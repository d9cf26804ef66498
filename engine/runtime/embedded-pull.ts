/**
 * The pull loop of a worker's embedded sources (generators, recorded files,
 * custom readers such as the SSE and HTTP-polling sources): one turn over
 * the actors per event-loop turn, so Kafka batches, ticks and messages from
 * the main thread interleave with it. Kafka input does not come through
 * here: the main thread pushes it (kafka-input.ts).
 */
import type { CustomSourceReader, SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, serializeError, SluiceError } from '../errors.ts';
import type { Codec } from '../sources/codecs.ts';
import type { InputGate } from './input-gate.ts';
import type { PullReader } from '../sources/pull-reader.ts';
import type { PartitionActor } from './partition-actor.ts';
import type { FromWorker } from './protocol.ts';

export interface InputBinding {
  sourceId: string;
  spec: SourceSpec;
  codec?: Codec;
  reader?: PullReader;
  /** Limits, decode, validation and event-time checks (input-gate.ts); made with the actor. */
  gate?: InputGate;
  /** A custom source's reader (async, with its own snapshot), opened after the actor restored. */
  custom?: CustomSourceReader;
  /** A custom reader's next() is in flight. */
  pending: boolean;
  finished: boolean;
}

/** What the loop needs of a worker's slot. */
export interface PullSlot {
  actor: PartitionActor;
  inputs: InputBinding[];
  finishedReported: boolean;
}

export class EmbeddedPuller {
  private pulling = false;

  constructor(
    private readonly slots: ReadonlyMap<string, PullSlot>,
    private readonly running: () => boolean,
    private readonly pullBatch: number,
    private readonly post: (msg: FromWorker) => void,
  ) {}

  schedule(): void {
    if (this.pulling) return;
    this.pulling = true;
    setImmediate(() => this.round());
  }

  /** One turn over the actors with embedded sources; yields to the event loop between turns. */
  private round(): void {
    this.pulling = false;
    if (!this.running()) return;
    let worked = false;
    let waiting = false;
    const now = Date.now();
    for (const s of this.slots.values()) {
      if (!s.actor.lifecycle.is('RUNNING') || s.actor.backpressured) {
        waiting ||= s.actor.lifecycle.is('RUNNING');
        continue;
      }
      s.inputs.forEach((bind, i) => {
        if (bind.custom && !bind.finished) {
          if (!bind.pending) this.pullCustom(s, bind, i);
          return;
        }
        if (!bind.reader || bind.finished) return;
        let r;
        try {
          r = bind.reader.read(s.actor.position(i), this.pullBatch, now);
        } catch (err) {
          this.sourceFailed(s, bind, err);
          return;
        }
        const gate = bind.gate!;
        for (const f of r.failures) gate.refuseUndecodable(f.offset, f.raw, f.error);
        const accepted: number[] = [];
        const vals: unknown[] = [];
        const ts: number[] = [];
        for (let k = 0; k < r.values.length; k++) {
          // The reader applied the source's timestamp already: r.times[k] is the event time.
          if (!gate.admitValue(r.offsets[k], r.values[k], r.times[k], true)) continue;
          vals.push(gate.value);
          ts.push(gate.time);
          accepted.push(r.offsets[k]);
        }
        if (vals.length) s.actor.ingest(i, vals, ts, accepted);
        const last = Math.max(r.offsets.at(-1) ?? -1, r.failures.at(-1)?.offset ?? -1);
        if (last >= 0) s.actor.skipTo(i, last + 1);
        if (r.values.length || r.failures.length) worked = true;
        else if (!r.done) waiting = true;
        if (r.done) {
          bind.finished = true;
          s.actor.finishInput(i);
        }
      });
      if (!s.finishedReported && s.inputs.every((b) => (b.reader || b.custom) && b.finished)) {
        s.finishedReported = true;
        this.post({ t: 'finished', actorId: s.actor.id });
      }
    }
    if (worked) this.schedule();
    else if (waiting) setTimeout(() => this.schedule(), 5);
  }

  /**
   * A source that cannot go on fails the job: the actor stops, and the error
   * (naming the source and the partition) goes to the main thread, which
   * fails the job with it. Records read so far stay checkpointed; a restart
   * resumes after them.
   */
  private sourceFailed(s: PullSlot, bind: InputBinding, err: unknown): void {
    const cause = err instanceof Error ? err.message : String(err);
    const e = new SluiceError(ErrorCodes.SOURCE, `source "${bind.sourceId}" on partition ${s.actor.partition}: ${cause}`, { cause: err });
    s.actor.destroy(e);
    this.post({ t: 'failed', actorId: s.actor.id, error: serializeError(e), fatal: true });
  }

  /**
   * Asks a custom source for its next records. Records get offsets that
   * continue the input's position, so replays after a restart are skipped
   * like Kafka's. Sources back off and retry transient errors themselves
   * (sse-source.ts, http-poll.ts), so what next() rejects with is final: the
   * job fails. The exception is an error marked `retryable`, which is tried
   * again after a pause.
   */
  private pullCustom(s: PullSlot, bind: InputBinding, i: number): void {
    bind.pending = true;
    bind.custom!.next(this.pullBatch).then(
      (recs) => {
        bind.pending = false;
        if (!s.actor.lifecycle.is('RUNNING') || this.slots.get(s.actor.id) !== s) return;
        if (recs === null) {
          bind.finished = true;
          s.actor.finishInput(i);
        } else if (recs.length > 0) {
          const start = s.actor.position(i);
          const now = s.actor.now();
          const vals: unknown[] = [];
          const ts: number[] = [];
          const offs: number[] = [];
          const gate = bind.gate!;
          for (let k = 0; k < recs.length; k++) {
            if (!gate.admitValue(start + k, recs[k], now)) continue;
            vals.push(gate.value);
            ts.push(gate.time);
            offs.push(start + k);
          }
          if (vals.length) s.actor.ingest(i, vals, ts, offs);
          s.actor.skipTo(i, start + recs.length);
        }
        if (recs === null || recs.length > 0) this.schedule();
        else setTimeout(() => this.schedule(), 20);
      },
      (err: unknown) => {
        bind.pending = false;
        if (!s.actor.lifecycle.is('RUNNING') || this.slots.get(s.actor.id) !== s) return;
        if (!(err instanceof SluiceError && err.retryable)) {
          this.sourceFailed(s, bind, err);
          return;
        }
        process.stderr.write(`sluice: source ${bind.sourceId} ${s.actor.id}: ${(err as Error).message}; retrying in 1 s\n`);
        setTimeout(() => this.schedule(), 1000);
      },
    );
  }
}

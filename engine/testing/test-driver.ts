/**
 * The test driver: a job (or one pipeline) in-process, on the engine's own
 * code path — real PartitionActors, one per partition, real LMDB state in a
 * temporary directory, real checkpoints and outbox deliveries — with
 * in-memory sources and sinks, after Kafka Streams' TopologyTestDriver.
 *
 *   - pipe(): records in, with keys, timestamps and partitions; they go
 *     through the source's codec (pipeRaw), `validate` and `timestamp` as in
 *     a worker;
 *   - advanceWatermark() / advanceTime(): event time and processing time
 *     move only when the test says so (a ManualClock drives the actors);
 *   - checkpoint(): commits and delivers; sinks hold output only after the
 *     checkpoint that makes it durable, as in production;
 *   - crash() / checkpoint({ crashAt }): the process dies (at a checkpoint
 *     phase), and the job restarts from its committed state, fed its input
 *     again from the committed positions;
 *   - sink(), output(), deadLetters(), valueState(), mapState(): what came out
 *     and what is kept.
 *
 * Lifecycle (any call but close() after close() throws):
 *
 *   OPEN ──close()──▶ CLOSED      crash() restarts the job within OPEN (a new incarnation)
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveJob, type JobDefinition, type Settings } from '../contracts/job.ts';
import type { MapState, ValueState } from '../contracts/operator.ts';
import type { PipelineBuilder } from '../contracts/pipeline.ts';
import type { SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { eventTime } from '../runtime/input-gate.ts';
import type { FaultPoint } from '../runtime/partition-actor.ts';
import { DEAD_LETTER_SINK } from '../runtime/topology.ts';
import { resolveCodec } from '../sources/codecs.ts';
import { closeStateEnv, openStateEnv, type StateEnv } from '../../state/env.ts';
import { ManualClock } from './clock.ts';
import type { Arrival, CrashPoint, DeadLetter, PipelineSourceOptions, TestDriverOptions, TestRecord } from './driver-types.ts';
import { feedBatch, replayEvent, type InputBinding, type LogEvent, type LoggedRecord } from './input-log.ts';
import { kafkaPartition, pipelineJob } from './pipeline-job.ts';
import { MemorySink, type OutputRecord } from './memory-sink.ts';
import { mapStateAcross, openSlot, valueStateAcross, type Slot } from './driver-slot.ts';

class InjectedCrash extends Error {
  constructor(readonly point: FaultPoint) {
    super(`test driver: injected crash ${point}`);
  }
}

export class TestDriver<S extends Settings = Settings> {
  readonly clock: ManualClock;
  readonly settings: S;
  readonly partitions: number;
  private readonly sources: Record<string, SourceSpec>;
  private readonly bindings: InputBinding[];
  private readonly bounds: number[];
  private readonly sinks = new Map<string, MemorySink>();
  private readonly env: StateEnv;
  private readonly ownDir: string | undefined;
  private readonly slots: Slot[] = [];
  private readonly arrived: Arrival[] = [];
  private armed: FaultPoint | undefined;
  private hit = false;
  private closed = false;
  /** Incarnations of the job so far: 1 + crashes. */
  incarnation = 1;

  // Kept as JobDefinition<Settings>, so that a TestDriver<MySettings> is a TestDriver (settings only appear covariantly).
  private readonly job: JobDefinition<Settings>;
  private readonly o: TestDriverOptions;

  constructor(job: JobDefinition<S>, o: TestDriverOptions<S> = {}) {
    this.job = job as unknown as JobDefinition<Settings>;
    this.o = o as TestDriverOptions;
    this.settings = { ...(job.settings ?? {}), ...(o.settings ?? {}) } as S;
    const resolved = resolveJob(job, this.settings);
    this.sources = resolved.sources;
    this.bindings = Object.entries(this.sources).map(([sourceId, spec]) => ({
      sourceId,
      spec,
      codec: spec.kind === 'kafka' ? resolveCodec(spec.codec) : undefined,
    }));
    this.bounds = this.bindings.map((b) => b.spec.watermark?.maxOutOfOrdernessMs ?? 0);
    const declared = Object.values(this.sources).find((s) => 'partitions' in s && typeof s.partitions === 'number') as { partitions?: number } | undefined;
    this.partitions = o.partitions ?? declared?.partitions ?? 1;
    if (!Number.isInteger(this.partitions) || this.partitions < 1) throw new SluiceError(ErrorCodes.CONFIG, `test driver: partitions must be a positive integer, got ${this.partitions}`);
    for (const id of [...Object.keys(resolved.sinks), DEAD_LETTER_SINK]) this.sinks.set(id, new MemorySink(id));
    this.clock = new ManualClock(o.startTime ?? 0);
    this.ownDir = o.stateDir === undefined ? mkdtempSync(join(tmpdir(), 'sluice-testkit-')) : undefined;
    // No fsync: a crash here is simulated in-process, so the OS cache is as good as the disk.
    this.env = openStateEnv(o.stateDir ?? this.ownDir!, { noSync: true });
    for (let p = 0; p < this.partitions; p++) this.slots.push(this.openSlot(p, [], this.bindings.map(() => 0)));
  }

  /**
   * A driver for one pipeline: `build` adds sources and sinks to the builder;
   * sources are named by `b.source(id)`, sinks by `.to(id)`.
   */
  static forPipeline(build: (b: PipelineBuilder) => void, o: TestDriverOptions & { sources?: Record<string, PipelineSourceOptions> } = {}): TestDriver {
    return new TestDriver(pipelineJob(build, o.sources ?? {}, o.partitions ?? 1), o);
  }

  // ---- input ----------------------------------------------------------------

  /** Pipes one record into source `sourceId`, as one batch. */
  pipe<T>(sourceId: string, value: T, o: Omit<TestRecord<T>, 'value'> = {}): this {
    return this.pipeRecords(sourceId, [{ ...o, value }]);
  }

  /** Pipes records into source `sourceId`: one batch per partition, in order (the watermark moves after each batch). */
  pipeRecords<T>(sourceId: string, records: ReadonlyArray<TestRecord<T>>): this {
    return this.feed(sourceId, records, false);
  }

  /** Pipes undecoded bytes (or a string) through the source's codec: a value that does not decode is a `decode_error` dead letter. */
  pipeRaw(sourceId: string, raw: Uint8Array | string, o: Omit<TestRecord, 'value'> = {}): this {
    return this.feed(sourceId, [{ ...o, value: typeof raw === 'string' ? Buffer.from(raw) : raw }], true);
  }

  /**
   * Feeds again the records of `sourceId` from offset `fromOffset` on, as a
   * consumer re-fetching after a rebalance does: the actor skips those its
   * position already covers.
   */
  redeliver(sourceId: string, o: { partition?: number; fromOffset?: number } = {}): this {
    const input = this.input(sourceId);
    const slot = this.slot(o.partition ?? 0);
    const from = o.fromOffset ?? 0;
    for (const e of slot.log) {
      if (e.t !== 'batch' || e.input !== input) continue;
      const recs = e.records.filter((r) => r.offset >= from);
      if (recs.length > 0) feedBatch(slot.actor, input, this.bindings[input], recs);
    }
    return this;
  }

  /**
   * Moves the event-time watermark to `time`: every input (or only
   * `o.source`) of every partition (or only `o.partition`) reports having
   * reached `time` plus its out-of-orderness bound, as a heartbeat would.
   * Due event-time timers fire. A record piped later with an event time
   * below `time` is then late.
   */
  advanceWatermark(time: number, o: { partition?: number; source?: string } = {}): this {
    this.checkOpen();
    const inputs = o.source === undefined ? this.bindings.map((_, i) => i) : [this.input(o.source)];
    for (const slot of this.selected(o.partition)) {
      for (const input of inputs) this.apply(slot, { t: 'time', input, time });
    }
    return this;
  }

  /**
   * Moves processing time forward by `ms`, ticking every actor as a worker
   * does at each point in between where a tick has work — a processing-time
   * timer is due (it fires with `ctx.now()` at its time), or the checkpoint
   * interval (checkpointIntervalMs) is up — and at the end: idle inputs,
   * due timers, checkpoints. Their output is delivered before this resolves.
   */
  async advanceTime(ms: number): Promise<void> {
    this.checkOpen();
    const target = this.clock.now() + ms;
    if (!(target >= this.clock.now())) this.clock.set(target); // throws: time only moves forward
    for (let stuck = 0; stuck < 2; ) {
      const due = Math.min(...this.slots.map((s) => s.actor.nextTickAt()));
      if (!(due < target)) break;
      // A due point that a tick does not move on (nothing to do there) is left after a second try.
      if (due <= this.clock.now()) stuck++;
      else {
        this.clock.set(due);
        stuck = 0;
      }
      for (const s of this.slots) await s.actor.tick();
    }
    this.clock.set(target);
    for (const s of this.slots) await s.actor.tick();
    for (const s of this.slots) await s.actor.drainDeliveries();
  }

  /** Ends every input: the watermark goes to +Infinity, every event-time timer fires. Then checkpoints. */
  async finish(): Promise<void> {
    this.checkOpen();
    for (const slot of this.slots) this.bindings.forEach((_, input) => this.apply(slot, { t: 'finish', input }));
    await this.checkpoint();
  }

  // ---- checkpoints and crashes ------------------------------------------------

  /**
   * Takes a checkpoint of every partition and waits until the sinks hold its
   * output. With `crashAt`, the process dies at that phase of the checkpoint
   * and the job restarts from its committed state (see crash()).
   */
  async checkpoint(o: { crashAt?: CrashPoint } = {}): Promise<void> {
    this.checkOpen();
    if (o.crashAt === 'before-checkpoint') return this.crash();
    this.armed = o.crashAt;
    this.hit = false;
    try {
      for (const s of this.slots) await s.actor.checkpoint();
      for (const s of this.slots) await s.actor.drainDeliveries();
    } catch (err) {
      if (!this.hit) throw err;
    } finally {
      this.armed = undefined;
    }
    if (o.crashAt === undefined) return;
    if (!this.hit) throw new SluiceError(ErrorCodes.ILLEGAL_STATE, `test driver: the checkpoint never reached crash point ${o.crashAt}`);
    await this.crash();
  }

  /**
   * The process dies now: every actor is dropped without a checkpoint, its
   * in-flight deliveries are cut, and what it did since its last checkpoint
   * is lost. Then the job restarts on the same state: actors restore from
   * their committed checkpoints, redeliver committed but unacknowledged
   * output (the sinks deduplicate it by record id), and are fed their input
   * again from the committed positions. Resolves once the redelivery is done.
   */
  async crash(): Promise<void> {
    this.checkOpen();
    for (const s of this.slots) {
      s.actor.destroy(new Error('test driver: crash'));
      for (const c of s.connections) c.sever();
      s.store.close();
    }
    this.incarnation++;
    for (let p = 0; p < this.partitions; p++) {
      const old = this.slots[p];
      this.slots[p] = this.openSlot(p, old.log, old.nextOffset);
      for (const e of old.log) replayEvent(this.slots[p].actor, this.bindings, e, this.bounds);
    }
    for (const s of this.slots) await s.actor.drainDeliveries();
  }

  /** Closes cleanly (a final checkpoint, everything delivered), then removes the temporary state. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      for (const s of this.slots) await s.actor.close();
    } finally {
      for (const s of this.slots) s.store.close();
      await closeStateEnv(this.env);
      if (this.ownDir) rmSync(this.ownDir, { recursive: true, force: true });
    }
  }

  // ---- output and state -------------------------------------------------------

  /** Every record piped in with pipe() or pipeRecords(), in arrival order (replays after a crash are not arrivals). */
  arrivals<T = unknown>(): Array<Arrival<T>> {
    return this.arrived as Array<Arrival<T>>;
  }

  /** The in-memory sink standing for the job's sink `sinkId`. */
  sink(sinkId: string): MemorySink {
    const s = this.sinks.get(sinkId);
    if (!s) throw new SluiceError(ErrorCodes.CONFIG, `test driver: the job has no sink "${sinkId}" (it has ${[...this.sinks.keys()].filter((k) => k !== DEAD_LETTER_SINK).join(', ')})`);
    return s;
  }

  /** The values sink `sinkId` holds (delivered by checkpoints so far). */
  output<T = unknown>(sinkId: string): T[] {
    return this.sink(sinkId).values<T>();
  }

  /** The records sink `sinkId` holds, with ids, keys, event times and partitions. */
  outputRecords<T = unknown>(sinkId: string): Array<OutputRecord<T>> {
    return this.sink(sinkId).records<T>();
  }

  /** What the dead-letter destination holds (delivered by checkpoints so far). */
  deadLetters<T = unknown>(): Array<DeadLetter<T>> {
    return this.sinks.get(DEAD_LETTER_SINK)!.values<DeadLetter<T>>();
  }

  /** Operator `operatorId`'s value state `name`, read across partitions (live, including what is not checkpointed yet). */
  valueState<T>(operatorId: string, name: string): Pick<ValueState<T>, 'get'> {
    return valueStateAcross<T>(this.slots, operatorId, name);
  }

  /** Operator `operatorId`'s map state `name`, read across partitions. */
  mapState<V>(operatorId: string, name: string): Pick<MapState<V>, 'get' | 'entries' | 'keys'> {
    return mapStateAcross<V>(this.slots, operatorId, name);
  }

  /** Keys held in committed state (as of the last checkpoint), over all partitions. */
  stateKeys(): number {
    return this.slots.reduce((n, s) => n + s.store.store.stats().stateKeys, 0);
  }

  /** The event-time watermark of a partition's actor (-Infinity before it has one). */
  watermark(partition = 0): number {
    return this.slot(partition).actor.currentWatermark();
  }

  /** Operator counters (`ctx.count`), summed over partitions, by `<operatorId>:<name>`. Metrics, not state: a crash resets them. */
  counters(): Map<string, number> {
    const out = new Map<string, number>();
    for (const s of this.slots) for (const [k, v] of s.actor.counters.operatorCounts) out.set(k, (out.get(k) ?? 0) + v);
    return out;
  }

  /** The partition Kafka's default partitioner gives `key` among this driver's partitions. */
  partitionOf(key: string): number {
    return kafkaPartition(key, this.partitions);
  }

  // ---- internals --------------------------------------------------------------

  private feed(sourceId: string, records: ReadonlyArray<TestRecord>, raw: boolean): this {
    this.checkOpen();
    const input = this.input(sourceId);
    const byPartition = new Map<number, LoggedRecord[]>();
    for (const r of records) {
      const p = r.partition ?? (r.key !== undefined ? this.partitionOf(r.key) : 0);
      const slot = this.slot(p);
      let list = byPartition.get(p);
      if (!list) byPartition.set(p, (list = []));
      list.push({ offset: slot.nextOffset[input]++, value: r.value, raw, time: r.time ?? this.clock.now(), key: r.key });
    }
    const bind = this.bindings[input];
    for (const [p, recs] of byPartition) {
      if (!raw) {
        const watermark = this.slots[p].actor.currentWatermark();
        for (const r of recs) {
          const spec = bind.spec;
          const time = spec.timestamp ? eventTime(spec, r.value, r.time) : r.time;
          this.arrived.push({ source: sourceId, value: r.value, key: r.key, partition: p, offset: r.offset, time, watermark, valid: validates(spec, r.value) });
        }
      }
      this.apply(this.slots[p], { t: 'batch', input, records: recs });
    }
    return this;
  }

  private apply(slot: Slot, e: LogEvent): void {
    slot.log.push(e);
    replayEvent(slot.actor, this.bindings, e, this.bounds);
  }

  private openSlot(partition: number, log: LogEvent[], nextOffset: number[]): Slot {
    return openSlot(
      {
        job: this.job,
        settings: this.settings,
        bindings: this.bindings,
        sinks: this.sinks,
        env: this.env,
        cacheMaxEntries: this.o.cacheMaxEntries ?? 100_000,
        checkpointIntervalMs: this.o.checkpointIntervalMs ?? Infinity,
        fault: (p) => this.fault(p),
        now: this.clock.now,
      },
      partition,
      log,
      nextOffset,
    );
  }

  private fault(p: FaultPoint): void {
    if (this.armed !== p) return;
    this.hit = true;
    throw new InjectedCrash(p);
  }

  private input(sourceId: string): number {
    const i = this.bindings.findIndex((b) => b.sourceId === sourceId);
    if (i < 0) throw new SluiceError(ErrorCodes.CONFIG, `test driver: the job has no source "${sourceId}" (it has ${this.bindings.map((b) => b.sourceId).join(', ')})`);
    return i;
  }

  private slot(p: number): Slot {
    const s = this.slots[p];
    if (!s) throw new SluiceError(ErrorCodes.CONFIG, `test driver: no partition ${p} (the driver has ${this.partitions})`);
    return s;
  }

  private selected(p: number | undefined): Slot[] {
    return p === undefined ? this.slots : [this.slot(p)];
  }

  private checkOpen(): void {
    if (this.closed) throw new SluiceError(ErrorCodes.ILLEGAL_STATE, 'test driver: closed');
  }
}

function validates(spec: SourceSpec, v: unknown): boolean {
  try {
    return spec.validate?.(v as never) === undefined;
  } catch {
    return false;
  }
}


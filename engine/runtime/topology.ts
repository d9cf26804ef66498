/**
 * One actor's instance of a job's pipeline, and the loop that moves batches
 * through it.
 *
 * Operators run synchronously, depth first: after an operator's `process`
 * (or a hook) returns, what it emitted is handed to each downstream node as
 * one batch. Within an actor there is one thread and no interleaving, so a
 * checkpoint taken between two calls into the topology is consistent: no
 * barrier alignment is needed inside an actor. Sink nodes append to the
 * actor's outbox; dead letters go to a reserved sink.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { Batch, Key, MapState, Operator, OperatorContext, TimerControl, ValueState } from '../contracts/operator.ts';
import type { PipelineNode } from '../contracts/pipeline.ts';
import type { ActorStore, TimerStore } from './store-contract.ts';

export const DEAD_LETTER_SINK = '__dlq';

/** Where the topology's output goes: the actor implements it. */
export interface TopologyOutput {
  toSink(sinkId: string, values: unknown[], times: number[], keys: Array<Key | undefined> | undefined): void;
  deadLetter(operatorId: string, value: unknown, reason: string, error?: unknown): void;
  currentWatermark(): number;
  count(operatorId: string, name: string, n: number): void;
  /** Processing time, ms: the actor's clock (Date.now unless a test kit drives it). */
  now(): number;
}

interface Edge {
  node: number;
  input: number;
}

class OutputBuffer {
  values: unknown[] = [];
  times: number[] = [];
  keys: Array<Key | undefined> = [];
  keyed = false;
}

class NodeContext implements OperatorContext<unknown> {
  readonly timers: TimerControl;
  readonly main = new OutputBuffer();
  readonly side = new Map<string, OutputBuffer>();
  private readonly values = new Map<string, ValueState<unknown>>();
  private readonly maps = new Map<string, MapState<unknown>>();
  readonly timerStore: TimerStore;

  constructor(
    readonly job: string,
    readonly operatorId: string,
    readonly partition: number,
    private readonly store: ActorStore,
    private readonly out: TopologyOutput,
    private readonly wm: () => number,
  ) {
    const t = (this.timerStore = store.timers(operatorId));
    this.timers = {
      registerEventTime: (key, ts, tag) => t.register('event', ts, key, tag),
      registerProcessingTime: (key, ts, tag) => t.register('processing', ts, key, tag),
      deleteEventTime: (key, ts, tag) => t.delete('event', ts, key, tag),
      deleteProcessingTime: (key, ts, tag) => t.delete('processing', ts, key, tag),
    };
  }

  emit(value: unknown, time: number, key?: Key): void {
    const b = this.main;
    b.values.push(value);
    b.times.push(time);
    b.keys.push(key);
    if (key !== undefined) b.keyed = true;
  }

  sideOutput(tag: string, value: unknown, time: number): void {
    let b = this.side.get(tag);
    if (!b) this.side.set(tag, (b = new OutputBuffer()));
    b.values.push(value);
    b.times.push(time);
    b.keys.push(undefined);
  }

  deadLetter(value: unknown, reason: string, error?: unknown): void {
    this.out.deadLetter(this.operatorId, value, reason, error);
  }

  valueState<T>(name: string): ValueState<T> {
    let s = this.values.get(name);
    if (!s) this.values.set(name, (s = this.store.valueState<unknown>(this.operatorId, name)));
    return s as ValueState<T>;
  }

  mapState<V>(name: string): MapState<V> {
    let s = this.maps.get(name);
    if (!s) this.maps.set(name, (s = this.store.mapState<unknown>(this.operatorId, name)));
    return s as MapState<V>;
  }

  watermark(): number {
    return this.wm();
  }

  now(): number {
    return this.out.now();
  }

  count(name: string, n = 1): void {
    this.out.count(this.operatorId, name, n);
  }
}

type OperatorHook = 'onStart' | 'onWatermark' | 'onTimer' | 'onCheckpoint' | 'onClose';

/** An operator callback other than process() threw (see Topology.call). */
export class OperatorHookError extends SluiceError {
  constructor(message: string, cause: unknown) {
    super(ErrorCodes.PROCESS, message, { cause, retryable: false });
  }
}

export class Topology {
  private readonly ops: Array<Operator | undefined> = [];
  private readonly ctxs: Array<NodeContext | undefined> = [];
  private readonly mainEdges: Edge[][] = [];
  private readonly sideEdges: Array<Map<string, Edge[]>> = [];
  /** Node index of each source id. */
  private readonly sourceNodes = new Map<string, number>();
  /** Operator nodes in topological order (the builder only adds nodes after their inputs). */
  private readonly operatorOrder: number[] = [];
  /**
   * Records each node sent on its main output, by node index, and per side
   * output tag: the counts behind the status page's edge rates. Added per
   * batch, never per record; every edge leaving a node (tag) carries them all.
   */
  private readonly mainOut: number[];
  private readonly sideOut: Array<Map<string, number> | undefined> = [];
  /** Per node, once event time is tracked per node (advanceNodeWatermarks); until then every node has the actor's. */
  private nodeWm: Float64Array | undefined;

  constructor(
    job: string,
    private readonly partition: number,
    private readonly nodes: readonly PipelineNode[],
    store: ActorStore,
    private readonly out: TopologyOutput,
  ) {
    this.mainOut = new Array<number>(nodes.length).fill(0);
    nodes.forEach((n, i) => {
      this.mainEdges.push([]);
      this.sideEdges.push(new Map());
      if (n.kind === 'operator') {
        this.ops[i] = n.operator;
        this.ctxs[i] = new NodeContext(job, n.id, partition, store, out, () => (this.nodeWm ? this.nodeWm[i] : out.currentWatermark()));
        this.operatorOrder.push(i);
      } else if (n.kind === 'source') {
        this.sourceNodes.set(n.sourceId, i);
      }
      n.inputs.forEach((inp, port) => {
        if (inp.from >= i) throw new SluiceError(ErrorCodes.CONFIG, `pipeline: node ${n.id} reads from a later node`);
        const edge = { node: i, input: port };
        if (inp.tag === undefined) this.mainEdges[inp.from].push(edge);
        else {
          const m = this.sideEdges[inp.from];
          const list = m.get(inp.tag) ?? [];
          list.push(edge);
          m.set(inp.tag, list);
        }
      });
    });
  }

  hasSource(sourceId: string): boolean {
    return this.sourceNodes.has(sourceId);
  }

  /** Feeds one decoded batch from a source into the pipeline. */
  pushSource(sourceId: string, values: unknown[], times: number[]): void {
    const node = this.sourceNodes.get(sourceId);
    if (node === undefined) return;
    const batch: Batch = { input: 0, values, times, keys: undefined };
    this.mainOut[node] += values.length;
    for (const e of this.mainEdges[node]) this.deliver(e, batch);
  }

  /** Records sent along each node's outputs so far: `{ [nodeId]: n, [nodeId#tag]: n }` (side outputs by tag). */
  outputCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    this.nodes.forEach((n, i) => {
      if (n.kind !== 'sink') out[n.id] = this.mainOut[i];
      for (const [tag, c] of this.sideOut[i] ?? []) out[`${n.id}#${tag}`] = c;
    });
    return out;
  }

  start(): void {
    for (const i of this.operatorOrder) this.call(i, 'onStart', (op, ctx) => op.onStart(ctx));
  }

  /** Fires due event-time timers, then onWatermark, operator by operator in topological order. */
  advanceWatermark(wm: number): void {
    for (const i of this.operatorOrder) {
      const ctx = this.ctxs[i]!;
      this.fireTimers(i, ctx, 'event', wm);
      this.call(i, 'onWatermark', (op, c) => op.onWatermark(wm, c));
    }
  }

  /**
   * Event time per operator, as Flink tracks it: each node's watermark is
   * `wmOf(node)`, from the inputs upstream of it only. A job whose stages
   * meet again through repartition topics needs this: a stage must not wait
   * for the event time of a later stage, which waits for it (the actor's
   * watermark, a minimum over every input, would). Fires each node's due
   * event-time timers, then onWatermark, where its watermark advanced.
   */
  advanceNodeWatermarks(wmOf: (node: number) => number): boolean {
    const w = (this.nodeWm ??= new Float64Array(this.nodes.length).fill(-Infinity));
    let moved = false;
    for (const i of this.operatorOrder) {
      const wm = wmOf(i);
      if (!(wm > w[i])) continue;
      w[i] = wm;
      moved = true;
      this.fireTimers(i, this.ctxs[i]!, 'event', wm);
      this.call(i, 'onWatermark', (op, c) => op.onWatermark(wm, c));
    }
    return moved;
  }

  /** Returns whether any timer fired. */
  fireProcessingTimers(now: number): boolean {
    let fired = false;
    for (const i of this.operatorOrder) if (this.fireTimers(i, this.ctxs[i]!, 'processing', now)) fired = true;
    return fired;
  }

  /** The earliest timer of `kind` of any operator, or undefined. */
  nextTimer(kind: 'event' | 'processing'): number | undefined {
    let min: number | undefined;
    for (const i of this.operatorOrder) {
      const t = this.ctxs[i]!.timerStore.next(kind);
      if (t !== undefined && (min === undefined || t < min)) min = t;
    }
    return min;
  }

  checkpoint(epoch: number): void {
    for (const i of this.operatorOrder) this.call(i, 'onCheckpoint', (op, ctx) => op.onCheckpoint(epoch, ctx));
  }

  close(): void {
    for (const i of this.operatorOrder) this.call(i, 'onClose', (op, ctx) => op.onClose(ctx));
  }

  private fireTimers(i: number, ctx: NodeContext, kind: 'event' | 'processing', upTo: number): boolean {
    const ts = ctx.timerStore;
    const next = ts.next(kind);
    if (next === undefined || next > upTo) return false;
    const op = this.ops[i]!;
    // One timestamp at a time, as Flink does: a timer registered while firing
    // (a window operator chaining to its next window after a watermark jump)
    // fires in this round if it is due, and before any due timer with a later
    // timestamp (a window's clean-up must not overtake its last firing).
    // Without this it would wait for the next advance, which after end of
    // input (watermark +Infinity) never comes.
    for (let due = ts.next(kind); due !== undefined && due <= upTo; due = ts.next(kind)) {
      for (const t of ts.popDue(kind, due)) {
        try {
          op.onTimer({ kind, ts: t.ts, key: t.key, tag: t.tag }, ctx);
        } catch (err) {
          throw this.hookFailed(ctx, 'onTimer', err);
        }
        this.drain(i);
      }
    }
    return true;
  }

  /**
   * Runs one operator callback other than process(). An exception there fails
   * the job (unlike one in process(), which dead-letters its batch): a timer,
   * watermark or checkpoint callback acts on state, not on a record that could
   * be set aside, and going on would checkpoint whatever it left half done.
   * The error names the operator, the callback and the partition.
   */
  private call(i: number, hook: OperatorHook, fn: (op: Operator, ctx: NodeContext) => void): void {
    try {
      fn(this.ops[i]!, this.ctxs[i]!);
    } catch (err) {
      throw this.hookFailed(this.ctxs[i]!, hook, err);
    }
    this.drain(i);
  }

  private hookFailed(ctx: NodeContext, hook: OperatorHook, err: unknown): SluiceError {
    if (err instanceof OperatorHookError) return err; // raised by a nested callback, already named
    const cause = err instanceof Error ? err.message : String(err);
    return new OperatorHookError(`operator "${ctx.operatorId}" ${hook} on partition ${this.partition}: ${cause}`, err);
  }

  private deliver(e: Edge, batch: Batch): void {
    const node = this.nodes[e.node];
    if (node.kind === 'operator') {
      const ctx = this.ctxs[e.node]!;
      const b = e.input === batch.input ? batch : { ...batch, input: e.input };
      try {
        this.ops[e.node]!.process(b, ctx);
      } catch (err) {
        this.failBatch(ctx, b, err);
      }
      this.drain(e.node);
    } else if (node.kind === 'sink') {
      this.out.toSink(node.sinkId, batch.values, batch.times, batch.keys);
    }
  }

  /**
   * An operator that throws from `process` broke its contract (bad records
   * belong in `ctx.deadLetter`; the library operators do that per record).
   * We cannot know which records it had handled, so nothing is undone: what
   * it emitted stays, and every record of the batch goes to the dead-letter
   * destination with reason `operator_failed`, so none is lost silently.
   */
  private failBatch(ctx: NodeContext, b: Batch, err: unknown): void {
    for (let r = 0; r < b.values.length; r++) this.out.deadLetter(ctx.operatorId, b.values[r], 'operator_failed', err);
  }

  private drain(i: number): void {
    const ctx = this.ctxs[i]!;
    const m = ctx.main;
    if (m.values.length > 0) {
      const batch: Batch = { input: 0, values: m.values, times: m.times, keys: m.keyed ? (m.keys as Key[]) : undefined };
      ctx.main.values = [];
      ctx.main.times = [];
      ctx.main.keys = [];
      ctx.main.keyed = false;
      this.mainOut[i] += batch.values.length;
      for (const e of this.mainEdges[i]) this.deliver(e, batch);
    }
    if (ctx.side.size > 0) {
      const side = [...ctx.side];
      ctx.side.clear();
      for (const [tag, b] of side) {
        const edges = this.sideEdges[i].get(tag);
        if (!edges) {
          this.out.count(ctx.operatorId, `side_output_dropped_${tag}`, b.values.length);
          continue;
        }
        const batch: Batch = { input: 0, values: b.values, times: b.times, keys: undefined };
        const counts = (this.sideOut[i] ??= new Map());
        counts.set(tag, (counts.get(tag) ?? 0) + b.values.length);
        for (const e of edges) this.deliver(e, batch);
      }
    }
  }
}

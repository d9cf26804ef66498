/**
 * A partition actor's event time: the watermark of its inputs
 * (watermark-tracker.ts), moved into the topology, per operator when an
 * input is upstream-watermarked (a repartition topic whose lanes carry
 * their own watermarks), and forwarded to the sinks that ask for it
 * (SinkSpec.watermarks).
 */
import { watermarkMarker } from '../contracts/sinks.ts';
import type { ActorOptions } from './actor-options.ts';
import { inputsUpstreamOf, inputsUpstreamOfNodes } from './pipeline-inputs.ts';
import type { Topology } from './topology.ts';
import { WatermarkTracker } from './watermark-tracker.ts';

/** The largest event time (Date's limit): a forwarded +Infinity, which JSON cannot carry. */
const MAX_EVENT_TIME = 8.64e15;

/** The watermark as a checkpoint keeps it, per source id (readable when a job's sources change). */
export interface WatermarkSnapshot {
  maxSeen: Record<string, number>;
  watermark: number;
}

export class ActorEventTime {
  private readonly tracker: WatermarkTracker;
  /** Per pipeline node, the inputs upstream of it; set when event time is tracked per node. */
  private readonly nodeInputs: number[][] | undefined;
  /** Per watermark-forwarding sink: the inputs upstream of it, and the watermark last sent to it. */
  private readonly forwarded: Array<{ sinkId: string; inputs: number[]; sent: number }>;

  constructor(private readonly o: ActorOptions) {
    this.tracker = new WatermarkTracker(o.inputs.map((i) => i.watermark));
    // With an upstream-watermarked input, event time is tracked per operator (Topology.advanceNodeWatermarks).
    this.nodeInputs = o.inputs.some((i) => i.watermark.upstream) ? o.nodes.map((_, i) => inputsUpstreamOfNodes(o, [i])) : undefined;
    this.forwarded = [...(o.watermarkSinks ?? [])].map((sinkId) => ({ sinkId, inputs: inputsUpstreamOf(o, sinkId), sent: -Infinity }));
  }

  get watermark(): number {
    return this.tracker.watermark;
  }

  /** The watermark resumes where the checkpoint left it (see WatermarkTracker.restore). */
  restore(wm: WatermarkSnapshot, now: number): void {
    this.tracker.restore({ maxSeen: this.o.inputs.map((inp) => wm.maxSeen[inp.sourceId]), watermark: wm.watermark }, now);
  }

  snapshot(): WatermarkSnapshot {
    const s = this.tracker.snapshot();
    const maxSeen: Record<string, number> = {};
    this.o.inputs.forEach((inp, i) => (maxSeen[inp.sourceId] = s.maxSeen[i]));
    return { maxSeen, watermark: s.watermark };
  }

  /** Input `input` processed `values` whose newest event time is `maxT`. */
  observeRecords(input: number, values: unknown[], maxT: number, now: number): void {
    this.tracker.observe(input, maxT, now);
    if (this.tracker.isUpstream(input)) this.observeMarkers(input, values, now);
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

  /** Input `input` reached event time `time` with no record; moves the actor's watermark only. */
  observeTime(input: number, time: number, now: number, topology: Topology): void {
    this.tracker.observe(input, time, now);
    const wm = this.tracker.advance(now);
    if (wm !== undefined) topology.advanceWatermark(wm);
  }

  /** A bounded input has no more records. */
  finish(input: number): void {
    this.tracker.finish(input);
  }

  /** Moves event time forward: the actor's watermark, and each operator's when tracked per node. Returns whether it moved. */
  advance(now: number, topology: Topology): boolean {
    const wm = this.tracker.advance(now);
    const nodes = this.nodeInputs;
    if (nodes !== undefined) return topology.advanceNodeWatermarks((i) => this.tracker.watermarkOver(nodes[i], now)) || wm !== undefined;
    if (wm !== undefined) topology.advanceWatermark(wm);
    return wm !== undefined;
  }

  /** Appends a watermark record to each forwarding sink whose upstream watermark advanced (SinkSpec.watermarks). */
  forward(now: number, append: (sinkId: string, record: unknown, time: number) => void): void {
    for (const f of this.forwarded) {
      const wm = this.tracker.watermarkOver(f.inputs, now);
      if (!(wm > f.sent)) continue;
      f.sent = wm;
      const t = Math.min(wm, MAX_EVENT_TIME);
      append(f.sinkId, watermarkMarker(t), t);
    }
  }
}

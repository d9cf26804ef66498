/**
 * Event-time watermark of one partition actor.
 *
 * Each input (source s, partition p) reports the largest event time it has
 * seen. Its watermark is that maximum minus the source's bound on
 * out-of-orderness; for an `upstream` input (a repartition topic that
 * forwards watermarks) it is instead the minimum over the upstream
 * partitions ("lanes") of the watermark each last sent, once every one of
 * them has sent one. The actor's watermark is the minimum over its inputs,
 * except inputs that have been silent for longer than their idle timeout: an
 * idle partition must not hold event time back for the others (Flink's
 * `withIdleness`). A finished bounded input counts as +Infinity, so windows
 * close at the end of a replay. The watermark never goes backwards.
 */
export interface WatermarkInputSpec {
  maxOutOfOrdernessMs: number;
  /** 0 or Infinity disables idleness. */
  idleTimeoutMs: number;
  /** See WatermarkSpec.idleAdvance (engine/contracts/sources.ts). Default 'hold'. */
  idleAdvance?: 'hold' | 'wall-clock';
  /** See WatermarkSpec.upstream: the watermark comes from observeLane(), not from record times. */
  upstream?: boolean;
}

export class WatermarkTracker {
  private readonly maxSeen: Float64Array;
  private readonly lastActive: Float64Array;
  private readonly finished: Uint8Array;
  private current = -Infinity;
  /** Per upstream input: the latest watermark of each upstream partition, and how many partitions there are. */
  private readonly lanes: Array<{ wm: Map<number, number>; count: number } | undefined>;

  constructor(private readonly inputs: readonly WatermarkInputSpec[]) {
    this.lanes = inputs.map((i) => (i.upstream ? { wm: new Map(), count: 0 } : undefined));
    this.maxSeen = new Float64Array(inputs.length).fill(-Infinity);
    this.lastActive = new Float64Array(inputs.length).fill(0);
    this.finished = new Uint8Array(inputs.length);
  }

  /** Records the largest event time of a batch from input `i` (for an upstream input, only that it was active). */
  observe(i: number, maxTime: number, now: number): void {
    if (this.lanes[i] === undefined && maxTime > this.maxSeen[i]) this.maxSeen[i] = maxTime;
    this.lastActive[i] = now;
  }

  /**
   * Upstream input `i`: upstream partition `lane` of `count` has reached
   * `watermark`. The input's time is the minimum over the lanes once all
   * `count` have reported (a lane that never reported holds it back, as an
   * input channel without a watermark holds Flink's back).
   */
  observeLane(i: number, lane: number, watermark: number, count: number, now: number): void {
    const l = this.lanes[i];
    if (l === undefined) return;
    if (count > l.count) l.count = count;
    const prev = l.wm.get(lane);
    if (prev === undefined || watermark > prev) l.wm.set(lane, watermark);
    this.lastActive[i] = now;
    if (l.wm.size < l.count) return;
    let min = Infinity;
    for (const w of l.wm.values()) if (w < min) min = w;
    if (min > this.maxSeen[i]) this.maxSeen[i] = min;
  }

  /** Whether input `i` takes its time from upstream watermarks. */
  isUpstream(i: number): boolean {
    return this.lanes[i] !== undefined;
  }

  /**
   * The watermark over a subset of the inputs (those upstream of one sink),
   * with the rules of advance(), without moving the actor's watermark:
   * -Infinity while one of them holds it back, +Infinity once all finished.
   */
  watermarkOver(indices: readonly number[], now: number): number {
    if (indices.length === 0) return -Infinity;
    let min = Infinity;
    let anyActive = false;
    for (const i of indices) {
      if (this.finished[i] === 1) continue;
      const wm = this.inputWatermark(i, now);
      if (wm === undefined) continue;
      anyActive = true;
      if (wm < min) min = wm;
    }
    if (!anyActive) return indices.every((i) => this.finished[i] === 1) ? Infinity : -Infinity;
    return min;
  }

  /** Input i's own watermark, or undefined when it is idle and left out of the minimum. */
  private inputWatermark(i: number, now: number): number | undefined {
    const spec = this.inputs[i];
    const idle = spec.idleTimeoutMs > 0 && spec.idleTimeoutMs !== Infinity && now - this.lastActive[i] >= spec.idleTimeoutMs;
    const wallClock = idle && spec.idleAdvance === 'wall-clock' && this.maxSeen[i] > -Infinity;
    if (idle && !wallClock) return undefined;
    const bound = this.lanes[i] !== undefined ? 0 : spec.maxOutOfOrdernessMs;
    return (wallClock ? Math.max(this.maxSeen[i], now) : this.maxSeen[i]) - bound;
  }

  /** Input `i` is bounded and has no more records. */
  finish(i: number): void {
    this.finished[i] = 1;
  }

  get watermark(): number {
    return this.current;
  }

  /** The largest time seen per input and the watermark, for the checkpoint. */
  snapshot(): { maxSeen: number[]; watermark: number } {
    return { maxSeen: [...this.maxSeen], watermark: this.current };
  }

  /**
   * Resumes from a checkpoint's snapshot. Without it a restarted actor's
   * watermark starts again at -Infinity, so records that were late before the
   * crash are not late when replayed, and the output differs from a run
   * without the crash. Only finite values are taken (a finished input's
   * +Infinity belongs to that run).
   */
  restore(s: { maxSeen: ReadonlyArray<number | undefined>; watermark: number } | undefined, now: number): void {
    if (!s) return;
    for (let i = 0; i < this.inputs.length; i++) {
      const t = s.maxSeen[i];
      if (t !== undefined && Number.isFinite(t) && t > this.maxSeen[i]) this.maxSeen[i] = t;
      this.lastActive[i] = now;
    }
    if (Number.isFinite(s.watermark) && s.watermark > this.current) this.current = s.watermark;
  }

  /**
   * Recomputes the watermark. Returns the new value if it advanced, or
   * undefined. Inputs that never produced a record hold the watermark at
   * -Infinity until they produce one or turn idle.
   */
  advance(now: number): number | undefined {
    let min = Infinity;
    let anyActive = false;
    for (let i = 0; i < this.inputs.length; i++) {
      if (this.finished[i] === 1) continue;
      const wm = this.inputWatermark(i, now);
      if (wm === undefined) continue;
      anyActive = true;
      if (wm < min) min = wm;
    }
    if (!anyActive) {
      // Everything finished: end of event time. Everything idle: hold.
      const allFinished = this.finished.every((f) => f === 1);
      if (!allFinished) return undefined;
      min = Infinity;
    }
    if (min > this.current) {
      this.current = min;
      return min;
    }
    return undefined;
  }
}

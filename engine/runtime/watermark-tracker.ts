/**
 * Event-time watermark of one partition actor.
 *
 * Each input (source s, partition p) reports the largest event time it has
 * seen. Its watermark is that maximum minus the source's bound on
 * out-of-orderness. The actor's watermark is the minimum over its inputs,
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
}

export class WatermarkTracker {
  private readonly maxSeen: Float64Array;
  private readonly lastActive: Float64Array;
  private readonly finished: Uint8Array;
  private current = -Infinity;

  constructor(private readonly inputs: readonly WatermarkInputSpec[]) {
    this.maxSeen = new Float64Array(inputs.length).fill(-Infinity);
    this.lastActive = new Float64Array(inputs.length).fill(0);
    this.finished = new Uint8Array(inputs.length);
  }

  /** Records the largest event time of a batch from input `i`. */
  observe(i: number, maxTime: number, now: number): void {
    if (maxTime > this.maxSeen[i]) this.maxSeen[i] = maxTime;
    this.lastActive[i] = now;
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
      const spec = this.inputs[i];
      const idle = spec.idleTimeoutMs > 0 && spec.idleTimeoutMs !== Infinity && now - this.lastActive[i] >= spec.idleTimeoutMs;
      const wallClock = idle && spec.idleAdvance === 'wall-clock' && this.maxSeen[i] > -Infinity;
      if (idle && !wallClock) continue;
      anyActive = true;
      const wm = (wallClock ? Math.max(this.maxSeen[i], now) : this.maxSeen[i]) - spec.maxOutOfOrdernessMs;
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

/**
 * What tumbling/hopping and session window operators share: the watermark
 * they judge lateness by, late-record handling, and the bookkeeping of
 * windows to emit early or again as late updates.
 *
 * The watermark is checkpointed. The runtime's tracker starts again from
 * -Infinity after a restart and only catches up once records arrive, so a
 * record replayed after a crash could otherwise be judged against a lower
 * watermark than it was before the crash and land in a window that already
 * fired and was cleaned up. Operators use max(runtime watermark, the value
 * stored at the last checkpoint): one LMDB value per operator per
 * checkpoint.
 */
import { Operator, type Batch, type Key, type OperatorContext, type ValueState } from '../../contracts/operator.ts';
import { keyId, resolveOptions, type EmissionKind, type ResolvedWindowOptions, type WindowOptions, type WindowResult } from './window-types.ts';

/** A window of a key waiting to be emitted (late update or early result). */
export interface PendingWindow {
  key: Key;
  /** Window end for pane windows; session start for sessions (resolved at emission). */
  at: number;
}

export abstract class WindowOperatorBase<I, A, R> extends Operator<I, WindowResult<R>> {
  protected readonly opts: ResolvedWindowOptions<I, A, R>;
  private wmFloor = -Infinity;
  private wmStored = -Infinity;
  private wmState: ValueState<number> | undefined;
  /** Windows updated by late records during the current batch, emitted at its end. */
  protected readonly lateDirty = new Map<string, PendingWindow>();
  /** Keys changed since the last early emission (only with `early`). */
  protected readonly earlyDirty = new Map<string, Key>();
  private lastEarlyAt = 0;

  constructor(o: WindowOptions<I, A, R>, what: string) {
    super();
    this.opts = resolveOptions(o, what);
  }

  override onStart(ctx: OperatorContext<WindowResult<R>>): void {
    this.wmState = ctx.valueState<number>('watermark');
    this.wmFloor = this.wmStored = this.wmState.get(0) ?? -Infinity;
    this.lastEarlyAt = ctx.now();
  }

  /** The watermark lateness is judged by. */
  protected watermark(ctx: OperatorContext<WindowResult<R>>): number {
    const w = ctx.watermark();
    if (w > this.wmFloor) this.wmFloor = w;
    return this.wmFloor;
  }

  override onWatermark(wm: number, _ctx: OperatorContext<WindowResult<R>>): void {
    if (wm > this.wmFloor) this.wmFloor = wm;
  }

  process(batch: Batch<I>, ctx: OperatorContext<WindowResult<R>>): void {
    const { values, times, keys } = batch;
    if (keys === undefined) throw new TypeError(`${ctx.operatorId}: a window operator needs keyBy() upstream`);
    const wm = this.watermark(ctx);
    const early = this.opts.earlyMs !== undefined;
    for (let i = 0; i < values.length; i++) {
      try {
        if (this.add(keys[i], values[i], times[i], wm, ctx) && early) this.earlyDirty.set(keyId(keys[i]), keys[i]);
      } catch (err) {
        ctx.deadLetter(values[i], 'process_error', err);
      }
    }
    if (this.lateDirty.size > 0) {
      for (const p of this.lateDirty.values()) this.emitPending(p, 'late', ctx);
      this.lateDirty.clear();
    }
  }

  /**
   * Adds one record. Returns false when it was too late for every window
   * (the caller has already counted it and sent it to the side output).
   */
  protected abstract add(key: Key, value: I, time: number, wm: number, ctx: OperatorContext<WindowResult<R>>): boolean;

  /** Emits the current result of a pending window, if it still exists. */
  protected abstract emitPending(p: PendingWindow, kind: EmissionKind, ctx: OperatorContext<WindowResult<R>>): void;

  /** Emits every open window of `key` (early results). */
  protected abstract emitOpen(key: Key, wm: number, ctx: OperatorContext<WindowResult<R>>): void;

  protected late(value: I, time: number, ctx: OperatorContext<WindowResult<R>>): false {
    ctx.count('late_records');
    ctx.sideOutput(this.opts.lateTag, value, time);
    return false;
  }

  protected emit(key: Key, start: number, end: number, acc: A, kind: EmissionKind, ctx: OperatorContext<WindowResult<R>>): void {
    ctx.emit({ key, start, end, result: this.opts.aggregate.result(acc), kind }, end - 1, key);
    ctx.count(kind === 'on-time' ? 'windows_fired' : kind === 'late' ? 'windows_updated_late' : 'windows_early');
  }

  override onCheckpoint(_epoch: number, ctx: OperatorContext<WindowResult<R>>): void {
    if (this.opts.earlyMs !== undefined && this.earlyDirty.size > 0) {
      const now = ctx.now();
      if (now - this.lastEarlyAt >= this.opts.earlyMs) {
        this.lastEarlyAt = now;
        const wm = this.watermark(ctx);
        for (const key of this.earlyDirty.values()) this.emitOpen(key, wm, ctx);
        this.earlyDirty.clear();
      }
    }
    if (this.wmFloor > this.wmStored && Number.isFinite(this.wmFloor)) {
      this.wmState!.put(0, this.wmFloor);
      this.wmStored = this.wmFloor;
    }
  }
}

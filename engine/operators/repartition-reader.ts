/**
 * The reading side of a repartition topic (engine/sinks/repartition-sink.ts):
 * unwraps each envelope and drops the copies an upstream redelivery wrote.
 *
 * Per upstream partition the operator keeps, in keyed state, the highest
 * (epoch, seq) it has passed on. Within one repartition partition, the
 * records of one upstream partition arrive in (epoch, seq) order, because the
 * upstream delivers epochs in order through one producer at a time; a
 * redelivered epoch (after a crash) repeats ids already seen, and a retried
 * send repeats a prefix. So "at or below the high-water mark" means
 * "already passed on", and dropping it makes the stage exactly-once.
 *
 * The high-water marks live in this actor's checkpoint with everything else,
 * so they are exact after a restart too. Output keeps the envelope's event
 * time and key. Watermark records (`w` set, see repartition-sink.ts) are
 * the runtime's, not data: they are dropped here.
 */
import { Operator, type Batch, type OperatorContext, type ValueState } from '../contracts/operator.ts';
import type { RepartitionEnvelope } from '../sinks/repartition-sink.ts';

export class RepartitionReader<T> extends Operator<RepartitionEnvelope<T>, T> {
  private hw!: ValueState<[number, number]>;
  /** The last mark seen per upstream partition, cached to skip a state lookup per record. */
  private readonly last = new Map<number, [number, number]>();

  override onStart(ctx: OperatorContext<T>): void {
    this.hw = ctx.valueState<[number, number]>('high-water');
  }

  process(batch: Batch<RepartitionEnvelope<T>>, ctx: OperatorContext<T>): void {
    const { values } = batch;
    // Marks are updated in place and written to state once per batch.
    let moved: number[] | undefined;
    for (let i = 0; i < values.length; i++) {
      const env = values[i];
      const s = env?.s;
      if (!Array.isArray(s) || s.length !== 3 || env.t === undefined) {
        ctx.deadLetter(env, 'bad_repartition_record');
        continue;
      }
      if (env.w !== undefined) continue;
      const [p, epoch, seq] = s;
      let mark = this.last.get(p);
      if (mark === undefined) {
        mark = this.hw.get(p) ?? [0, -1];
        this.last.set(p, mark);
      }
      if (epoch < mark[0] || (epoch === mark[0] && seq <= mark[1])) {
        ctx.count('repartition_duplicates');
        continue;
      }
      mark[0] = epoch;
      mark[1] = seq;
      if (moved === undefined) moved = [p];
      else if (!moved.includes(p)) moved.push(p);
      if (env.k === null) ctx.emit(env.v, env.t);
      else ctx.emit(env.v, env.t, env.k);
    }
    if (moved) for (const p of moved) this.hw.put(p, this.last.get(p)!);
  }
}

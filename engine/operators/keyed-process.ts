/**
 * A keyed process function, as in Flink: called once per record with its key,
 * with keyed state and timers at hand. Built on the plain operator contract.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Operator, type Batch, type Key, type OperatorContext, type Timer } from '../contracts/operator.ts';

export abstract class KeyedProcessFunction<I, O> extends Operator<I, O> {
  abstract processElement(value: I, key: Key, time: number, ctx: OperatorContext<O>): void;

  /** Override to handle timers; `timer.key` is the key it was registered for. */
  override onTimer(_timer: Timer, _ctx: OperatorContext<O>): void {}

  process(batch: Batch<I>, ctx: OperatorContext<O>): void {
    const { values, times, keys } = batch;
    if (keys === undefined) {
      throw new SluiceError(ErrorCodes.CONFIG, `${ctx.operatorId}: a keyed process function needs keyBy() upstream`);
    }
    for (let i = 0; i < values.length; i++) {
      try {
        this.processElement(values[i], keys[i], times[i], ctx);
      } catch (err) {
        // State written for this record before the throw stays: keep processElement's writes last.
        ctx.deadLetter(values[i], 'process_error', err);
      }
    }
  }
}

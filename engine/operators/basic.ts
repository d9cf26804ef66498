/**
 * Stateless library operators. Each loops over the whole batch; none allocates
 * per record beyond what the user's function returns. A user function that
 * throws sends that one record to the dead-letter destination, and the batch
 * goes on.
 */
import { Operator, type Batch, type Key, type OperatorContext } from '../contracts/operator.ts';

export class MapOperator<I, O> extends Operator<I, O> {
  /** Keeps no state: no changelog topic (engine/runtime/changelog.ts). */
  readonly stateless = true;
  constructor(private readonly fn: (value: I) => O) {
    super();
  }
  process(batch: Batch<I>, ctx: OperatorContext<O>): void {
    const { values, times, keys } = batch;
    const fn = this.fn;
    for (let i = 0; i < values.length; i++) {
      let out: O;
      try {
        out = fn(values[i]);
      } catch (err) {
        ctx.deadLetter(values[i], 'process_error', err);
        continue;
      }
      ctx.emit(out, times[i], keys?.[i]);
    }
  }
}

export class FilterOperator<T> extends Operator<T, T> {
  /** Keeps no state: no changelog topic (engine/runtime/changelog.ts). */
  readonly stateless = true;
  constructor(private readonly fn: (value: T) => boolean) {
    super();
  }
  process(batch: Batch<T>, ctx: OperatorContext<T>): void {
    const { values, times, keys } = batch;
    const fn = this.fn;
    for (let i = 0; i < values.length; i++) {
      let keep: boolean;
      try {
        keep = fn(values[i]);
      } catch (err) {
        ctx.deadLetter(values[i], 'process_error', err);
        continue;
      }
      if (keep) ctx.emit(values[i], times[i], keys?.[i]);
    }
  }
}

export class FlatMapOperator<I, O> extends Operator<I, O> {
  /** Keeps no state: no changelog topic (engine/runtime/changelog.ts). */
  readonly stateless = true;
  constructor(private readonly fn: (value: I) => Iterable<O>) {
    super();
  }
  process(batch: Batch<I>, ctx: OperatorContext<O>): void {
    const { values, times, keys } = batch;
    const fn = this.fn;
    for (let i = 0; i < values.length; i++) {
      let outs: O[];
      try {
        outs = [...fn(values[i])];
      } catch (err) {
        ctx.deadLetter(values[i], 'process_error', err);
        continue;
      }
      for (const out of outs) ctx.emit(out, times[i], keys?.[i]);
    }
  }
}

export class KeyByOperator<T> extends Operator<T, T> {
  /** Keeps no state: no changelog topic (engine/runtime/changelog.ts). */
  readonly stateless = true;
  constructor(private readonly fn: (value: T) => Key) {
    super();
  }
  process(batch: Batch<T>, ctx: OperatorContext<T>): void {
    const { values, times } = batch;
    const fn = this.fn;
    for (let i = 0; i < values.length; i++) {
      let key: Key;
      try {
        key = fn(values[i]);
      } catch (err) {
        ctx.deadLetter(values[i], 'key_error', err);
        continue;
      }
      ctx.emit(values[i], times[i], key);
    }
  }
}

export class UnionOperator<T> extends Operator<T, T> {
  /** Keeps no state: no changelog topic (engine/runtime/changelog.ts). */
  readonly stateless = true;
  process(batch: Batch<T>, ctx: OperatorContext<T>): void {
    const { values, times, keys } = batch;
    for (let i = 0; i < values.length; i++) ctx.emit(values[i], times[i], keys?.[i]);
  }
}

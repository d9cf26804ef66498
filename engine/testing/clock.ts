/**
 * A processing-time clock the test driver moves by hand. The engine reads
 * processing time only through its actor's clock (ActorOptions.now, which
 * defaults to Date.now): operators' `ctx.now()`, processing-time timers,
 * idleness of inputs and the checkpoint interval. So a test that moves this
 * clock needs no sleeps, and runs the same on a loaded machine.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';

export class ManualClock {
  constructor(private t = 0) {}

  /** The current time, ms. A bound function: pass it where a `() => number` is expected. */
  readonly now = (): number => this.t;

  /** Moves the clock forward by `ms` (>= 0). */
  advance(ms: number): number {
    return this.set(this.t + ms);
  }

  /** Moves the clock to `t`; processing time never goes back. */
  set(t: number): number {
    if (!Number.isFinite(t) || t < this.t) throw new SluiceError(ErrorCodes.CONFIG, `test clock: cannot move from ${this.t} to ${t} (processing time only moves forward)`);
    this.t = t;
    return t;
  }
}

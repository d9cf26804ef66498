/**
 * A small explicit state machine: an enum of states, a table of legal
 * transitions, and `transition()` that throws on anything else. Actors,
 * workers and jobs each declare their own table (see partition-actor.ts,
 * worker-host.ts, job-runner.ts), in the style of Kafka Streams' Task.java.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';

export class Lifecycle<S extends string> {
  private current: S;
  private readonly listeners: Array<(from: S, to: S) => void> = [];

  constructor(
    private readonly what: string,
    initial: S,
    private readonly legal: Readonly<Record<S, readonly S[]>>,
  ) {
    this.current = initial;
  }

  get state(): S {
    return this.current;
  }

  is(...states: S[]): boolean {
    return states.includes(this.current);
  }

  canTransition(to: S): boolean {
    return this.legal[this.current].includes(to);
  }

  /** Moves to `to`, or throws SLUICE_ILLEGAL_STATE naming both states. */
  transition(to: S): void {
    if (!this.canTransition(to)) {
      throw new SluiceError(
        ErrorCodes.ILLEGAL_STATE,
        `${this.what}: illegal transition ${this.current} -> ${to} (legal: ${this.legal[this.current].join(', ') || 'none'})`,
      );
    }
    const from = this.current;
    this.current = to;
    for (const l of this.listeners) l(from, to);
  }

  onTransition(listener: (from: S, to: S) => void): void {
    this.listeners.push(listener);
  }
}

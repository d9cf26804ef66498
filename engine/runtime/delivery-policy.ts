/**
 * The one delivery policy of every sink: how long a failing delivery is
 * retried, with which backoff, when it counts as stalled, and how its
 * retries are logged. Sinks never retry on their own; they only classify
 * their errors (a SluiceError with `retryable`, see contracts/sinks.ts), and
 * the DeliveryQueue (outbox.ts) applies this policy to every sink alike.
 *
 *   retryForMs    a delivery that keeps failing with retryable errors is
 *                 retried for this long, counted from its first failure;
 *                 then the job fails (default 300 000: five minutes of
 *                 outage are ridden out; the outbox and backpressure keep
 *                 memory bounded meanwhile)
 *   backoff       delay before retry n: min(maxMs, initialMs * 2^(n-1)),
 *                 half of it jittered (default 200 ms up to 10 s)
 *   stallAfterMs  a sink failing for this long is "stalled": /healthz then
 *                 answers 503 and names the partition, the sink and the
 *                 cause (default 30 000)
 *   logEveryMs    retries are logged with their cause, the first at once,
 *                 then at most one line per this interval per sink and
 *                 partition, counting the retries in between (default 5 000)
 *
 * A non-retryable error fails the job at the first attempt. A thrown value
 * that is not a SluiceError is retried: an unclassified error (a socket
 * reset deep in a driver) is more often a fault of the infrastructure than
 * of the data.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Backoff, type BackoffOptions } from '../sources/backoff.ts';

/** Plain data, so it crosses to the worker threads in their init message. */
export interface DeliveryPolicyOptions {
  retryForMs?: number;
  backoff?: BackoffOptions;
  stallAfterMs?: number;
  logEveryMs?: number;
}

export const DELIVERY_DEFAULTS = {
  retryForMs: 300_000,
  backoff: { initialMs: 200, maxMs: 10_000, multiplier: 2, jitter: 0.5 },
  stallAfterMs: 30_000,
  logEveryMs: 5_000,
} as const;

/** A sink of one partition that keeps failing: what /healthz reports once it lasts stallAfterMs. */
export interface SinkStall {
  sink: string;
  /** When the current run of failures began (ms since the epoch). */
  since: number;
  /** Failed attempts in this run. */
  failures: number;
  /** The last error, one line. */
  cause: string;
}

export class DeliveryPolicy {
  readonly retryForMs: number;
  readonly stallAfterMs: number;
  readonly logEveryMs: number;
  private readonly backoff: Backoff;

  constructor(
    o: DeliveryPolicyOptions = {},
    /** Where retry lines go; the worker's stderr by default. */
    readonly log: (line: string) => void = (line) => void process.stderr.write(`sluice: ${line}\n`),
    readonly now: () => number = Date.now,
    random: () => number = Math.random,
  ) {
    this.retryForMs = o.retryForMs ?? DELIVERY_DEFAULTS.retryForMs;
    this.stallAfterMs = o.stallAfterMs ?? DELIVERY_DEFAULTS.stallAfterMs;
    this.logEveryMs = o.logEveryMs ?? DELIVERY_DEFAULTS.logEveryMs;
    for (const [k, v] of [['retryForMs', this.retryForMs], ['stallAfterMs', this.stallAfterMs], ['logEveryMs', this.logEveryMs]] as const) {
      if (!(Number.isFinite(v) && v >= 0)) throw new SluiceError(ErrorCodes.CONFIG, `delivery policy: ${k} must be a number >= 0, got ${v}`);
    }
    try {
      const b = { ...DELIVERY_DEFAULTS.backoff, ...o.backoff };
      // A cap below the default first delay lowers the first delay too.
      if (o.backoff?.initialMs === undefined && b.maxMs < b.initialMs) b.initialMs = b.maxMs;
      this.backoff = new Backoff(b, random);
    } catch (err) {
      throw new SluiceError(ErrorCodes.CONFIG, `delivery policy: ${(err as Error).message}`, { cause: err });
    }
  }

  /** Whether retrying can help: SluiceErrors say so; anything else is taken for an infrastructure fault. */
  static retryable(err: unknown): boolean {
    return !(err instanceof SluiceError) || err.retryable;
  }

  /** Delay before retry number `attempt` (1-based). */
  delay(attempt: number): number {
    return this.backoff.delay(attempt);
  }
}

/** Seconds with one decimal, for log lines. */
export function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

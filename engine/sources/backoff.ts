/**
 * Retry delays: exponential backoff with jitter, and the server's own
 * `Retry-After` when it sends one.
 *
 * Delay of attempt n (1 = first retry): min(maxMs, initialMs * multiplier^(n-1)),
 * then multiplied by a random factor in [1 - jitter, 1]. Jitter spreads the
 * retries of many pollers hitting one API (AWS's "equal jitter" with a tunable
 * share); jitter 0 gives exact delays, which the tests use to check the curve.
 */

export interface BackoffOptions {
  /** First retry delay. Default 500 ms. */
  initialMs?: number;
  /** Cap. Default 30 s. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  multiplier?: number;
  /** Share of the delay that is randomized, 0..1. Default 0.5. */
  jitter?: number;
}

export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
  readonly jitter: number;

  constructor(
    o: BackoffOptions = {},
    private readonly random: () => number = Math.random,
  ) {
    this.initialMs = o.initialMs ?? 500;
    this.maxMs = o.maxMs ?? 30_000;
    this.multiplier = o.multiplier ?? 2;
    this.jitter = o.jitter ?? 0.5;
    if (!(this.initialMs >= 0 && this.maxMs >= this.initialMs && this.multiplier >= 1 && this.jitter >= 0 && this.jitter <= 1)) {
      throw new RangeError(`backoff: need 0 <= initialMs <= maxMs, multiplier >= 1, 0 <= jitter <= 1; got ${JSON.stringify(o)}`);
    }
  }

  /** Delay before retry number `attempt` (1-based). */
  delay(attempt: number): number {
    const base = Math.min(this.maxMs, this.initialMs * this.multiplier ** Math.max(0, attempt - 1));
    return Math.round(base * (1 - this.jitter * this.random()));
  }
}

/**
 * `Retry-After` in ms: delta-seconds ("120") or an HTTP date. Undefined when
 * absent or unparseable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now = Date.now()): number | undefined {
  if (value === null || value === undefined) return undefined;
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

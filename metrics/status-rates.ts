/**
 * Rates from running totals: each status request adds a sample of the
 * totals, and a rate is the difference to the oldest sample kept, over the
 * time between them. Samples older than RATE_WINDOW_MS are dropped (one older
 * sample stays, so the window is never empty), which makes a rate the average
 * of the last few seconds whatever the polling interval. A total that went
 * down (counters restarted) counts as zero, never as a negative rate.
 */
export const RATE_WINDOW_MS = 5_000;

export class RateWindow {
  private readonly samples: Array<{ at: number; totals: Map<string, number> }> = [];

  constructor(private readonly windowMs = RATE_WINDOW_MS) {}

  /** Per key, records per second over the window ending at `now`; 0 before there are two samples. */
  rates(now: number, totals: Map<string, number>): Map<string, number> {
    const s = this.samples;
    s.push({ at: now, totals: new Map(totals) });
    while (s.length > 2 && now - s[1].at >= this.windowMs) s.shift();
    const base = s[0];
    const secs = (now - base.at) / 1000;
    const out = new Map<string, number>();
    for (const [k, v] of totals) out.set(k, secs > 0 ? Math.max(0, v - (base.totals.get(k) ?? 0)) / secs : 0);
    return out;
  }
}

/**
 * Nexmark q5, hot items: per sliding window (10 s, sliding by 2 s), the
 * auctions with the most bids.
 *
 * A window's winner is a maximum over every auction, and auctions live in
 * every partition; sluice has no stage that sees all partitions (no
 * shuffle), so the query runs in two phases, as Flink's plan does:
 *   1. here, per partition: count bids per (window, auction) and, when the
 *      window closes, emit the partition's most-bid auctions of it (its
 *      candidates, `Q5Candidate`);
 *   2. `combineQ5` over the candidates of all partitions: the window's
 *      maximum, and the auctions reaching it. It reads P records per window.
 * Phase 2 is exact because an auction's bids are all in one partition (the
 * generator keeps bid.auction in its own timeline): a global winner is a
 * winner of its partition.
 *
 * State: map state keyed by window start, field = auction id, value = count,
 * and one event-time timer per window. A batch is pre-aggregated in memory
 * first (Nexmark's hot auctions get half of all bids), so state sees one
 * update per (window, auction) per batch, not one per bid.
 */
import { Operator, type Batch, type OperatorContext, type Timer } from '../../api/index.ts';
import { nexmarkJob, windowStart } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export const Q5_WINDOW_MS = 10_000;
export const Q5_SLIDE_MS = 2_000;

export interface Q5Candidate {
  starttime: number;
  endtime: number;
  auction: number;
  num: number;
}

/**
 * Bids per (window, auction); when a window ends, its most-bid auctions (a
 * partition's candidates). Shared with the Kafka-fed q5, whose input is the
 * auction id alone (`auctionOf`) and which keys its output by window start
 * for the next stage (`keyByWindow`).
 */
export class HotItems<T> extends Operator<T, Q5Candidate> {
  /** Per-batch combiner: window start -> auction -> bids. Emptied after each batch. */
  private readonly pending = new Map<number, Map<number, number>>();

  constructor(
    private readonly auctionOf: (v: T) => number,
    private readonly keyByWindow = false,
  ) {
    super();
  }

  process(batch: Batch<T>, ctx: OperatorContext<Q5Candidate>): void {
    const { values, times } = batch;
    const wm = ctx.watermark();
    const pending = this.pending;
    let late = 0;
    for (let i = 0; i < values.length; i++) {
      const auction = this.auctionOf(values[i]);
      const t = times[i];
      for (let ws = windowStart(t, Q5_SLIDE_MS); ws > t - Q5_WINDOW_MS; ws -= Q5_SLIDE_MS) {
        if (ws + Q5_WINDOW_MS <= wm) {
          late++;
          continue;
        }
        let m = pending.get(ws);
        if (m === undefined) pending.set(ws, (m = new Map()));
        m.set(auction, (m.get(auction) ?? 0) + 1);
      }
    }
    if (late > 0) ctx.count('late_window_updates', late);
    const counts = ctx.mapState<number>('counts');
    for (const [ws, m] of pending) {
      for (const [auction, n] of m) counts.put(ws, auction, (counts.get(ws, auction) ?? 0) + n);
      ctx.timers.registerEventTime(ws, ws + Q5_WINDOW_MS);
    }
    pending.clear();
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q5Candidate>): void {
    const ws = t.key as number;
    const counts = ctx.mapState<number>('counts');
    const entries = counts.entries(ws);
    let max = 0;
    for (const [, n] of entries) if (n > max) max = n;
    const key = this.keyByWindow ? ws : undefined;
    for (const [auction, n] of entries) {
      if (n === max) ctx.emit({ starttime: ws, endtime: ws + Q5_WINDOW_MS, auction: auction as number, num: n }, t.ts - 1, key);
    }
    counts.clear(ws);
  }
}

/** Phase 2: the candidates of every partition -> each window's most-bid auctions, ordered by (window, auction). */
export function combineQ5(candidates: readonly Q5Candidate[]): Q5Candidate[] {
  const max = new Map<number, number>();
  for (const c of candidates) if (c.num > (max.get(c.starttime) ?? 0)) max.set(c.starttime, c.num);
  return candidates
    .filter((c) => c.num === max.get(c.starttime))
    .sort((a, b) => a.starttime - b.starttime || a.auction - b.auction);
}

export default nexmarkJob({
  name: 'nexmark-q5',
  description: 'Nexmark q5: most-bid auctions per 10 s window sliding by 2 s (per-partition candidates)',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .process(new HotItems<NexmarkEvent>((e) => e.bid!.auction), 'hot-items')
      .to('out');
  },
});

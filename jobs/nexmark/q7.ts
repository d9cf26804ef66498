/**
 * Nexmark q7, highest bid: per 10 s tumbling window, the bids with the
 * highest price. The SQL joins each bid with its window's maximum using
 * `dateTime BETWEEN end - 10 s AND end`, which would also count a bid at
 * exactly `end` in the window before it; we use the half-open window
 * [start, end) for both sides, so a bid belongs to one window.
 *
 * Two phases, like q5 (see q5.ts): per partition, the bids at the
 * partition's maximum price of each window, emitted when the window closes;
 * then `combineQ7` keeps those at the maximum over all partitions.
 *
 * State: value state keyed by window start holding the window's maximum so
 * far and the bids at it; a batch is reduced in memory first, so state sees
 * one read and at most one write per window per batch.
 */
import { Operator, type Batch, type OperatorContext, type Timer } from '../../api/index.ts';
import { bidRow, type BidRow } from './bid-row.ts';
import { nexmarkJob, windowStart } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export const Q7_WINDOW_MS = 10_000;

export type Q7Row = BidRow;

interface WindowMax {
  price: number;
  bids: Q7Row[];
}

class HighestBid extends Operator<NexmarkEvent, Q7Row> {
  private readonly pending = new Map<number, WindowMax>();

  process(batch: Batch<NexmarkEvent>, ctx: OperatorContext<Q7Row>): void {
    const { values, times } = batch;
    const wm = ctx.watermark();
    const pending = this.pending;
    let late = 0;
    for (let i = 0; i < values.length; i++) {
      const b = values[i].bid!;
      const ws = windowStart(times[i], Q7_WINDOW_MS);
      if (ws + Q7_WINDOW_MS <= wm) {
        late++;
        continue;
      }
      const m = pending.get(ws);
      if (m === undefined || b.price > m.price) pending.set(ws, { price: b.price, bids: [bidRow(b)] });
      else if (b.price === m.price) m.bids.push(bidRow(b));
    }
    if (late > 0) ctx.count('late_bids', late);
    const state = ctx.valueState<WindowMax>('max');
    for (const [ws, m] of pending) {
      const cur = state.get(ws);
      if (cur === undefined) {
        state.put(ws, m);
        ctx.timers.registerEventTime(ws, ws + Q7_WINDOW_MS);
      } else if (m.price > cur.price) state.put(ws, m);
      else if (m.price === cur.price) state.put(ws, { price: cur.price, bids: [...cur.bids, ...m.bids] });
    }
    pending.clear();
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q7Row>): void {
    const state = ctx.valueState<WindowMax>('max');
    const m = state.get(t.key);
    if (m !== undefined) for (const b of m.bids) ctx.emit(b, b.dateTime);
    state.delete(t.key);
  }
}

/** Phase 2: the rows of every partition -> each window's highest bids, ordered by (time, auction, bidder). */
export function combineQ7(rows: readonly Q7Row[]): Q7Row[] {
  const max = new Map<number, number>();
  for (const r of rows) {
    const ws = windowStart(r.dateTime, Q7_WINDOW_MS);
    if (r.price > (max.get(ws) ?? -Infinity)) max.set(ws, r.price);
  }
  return rows
    .filter((r) => r.price === max.get(windowStart(r.dateTime, Q7_WINDOW_MS)))
    .sort((a, b) => a.dateTime - b.dateTime || a.auction - b.auction || a.bidder - b.bidder);
}

export default nexmarkJob({
  name: 'nexmark-q7',
  description: 'Nexmark q7: highest bids per 10 s window (per-partition candidates)',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .process(new HighestBid(), 'highest-bid')
      .to('out');
  },
});

/**
 * Nexmark q7 from Kafka, highest bid: the bids whose price is the maximum of
 * a 10 s tumbling window, as the SQL writes it: a join of every bid with the
 * windows' maxima, ON B.price = B1.maxprice AND B.dateTime BETWEEN
 * B1.dateTime - 10 s AND B1.dateTime. The maximum is over the tumbling
 * window [start, end); the join's range includes both ends, so a bid at
 * exactly a window's end also joins that window (at its maximum, to which it
 * did not contribute).
 *
 * Hand-written plan (labelled in the results), in two stages, finished
 * inside the job:
 *   1. per topic partition: every bid, keyed by each window whose range
 *      holds its dateTime (one, or two at a boundary), to the repartition
 *      topic `bids-by-window`: all bids cross the shuffle, as in Flink's
 *      join;
 *   2. keyed by window: the join. Per window, the maximum price so far and
 *      the bids at it; a bid below the maximum so far is pruned at once, since
 *      the window's final maximum cannot equal its price (Flink's regular
 *      join keeps every bid in its state instead). When the window has
 *      ended for every upstream partition, its bids at the maximum go out.
 */
import { Operator, type Batch, type OperatorContext, type Timer, RepartitionReader, type RepartitionEnvelope } from '../../api/index.ts';
import { bidRow, type BidRow } from '../nexmark/bid-row.ts';
import { windowStart } from '../nexmark/common.ts';
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';

export const Q7_WINDOW_MS = 10_000;

/** The bid's columns, dateTime as the topic's text. */
export type Q7Row = BidRow<string>;

/** A bid on its way to its window: [window end, row, 1 if it only joins (it is at the window's end)]. */
type WindowBid = [number, Q7Row, 0 | 1];

interface WindowMax {
  price: number;
  bids: Q7Row[];
  /** Bids at exactly the window's end, at or above the maximum so far: they join if their price is the final maximum. */
  edge: Q7Row[];
}

/** Stage 1: each bid once per window it joins (two at a boundary). */
class ToWindows extends Operator<KafkaEvent, WindowBid> {
  process(batch: Batch<KafkaEvent>, ctx: OperatorContext<WindowBid>): void {
    const { values, times } = batch;
    for (let i = 0; i < values.length; i++) {
      const row: Q7Row = bidRow(values[i].bid!);
      const t = times[i];
      const end = windowStart(t, Q7_WINDOW_MS) + Q7_WINDOW_MS;
      ctx.emit([end, row, 0], t, end);
      // At exactly a window's start the bid is also at the previous window's end: BETWEEN includes both.
      if (end - Q7_WINDOW_MS === t) ctx.emit([t, row, 1], t, t);
    }
  }
}

/** Stage 2: per window, the maximum so far and its bids; out when the window has ended everywhere. */
class HighestBidJoin extends Operator<WindowBid, Q7Row> {
  private readonly pending = new Map<number, WindowMax>();

  process(batch: Batch<WindowBid>, ctx: OperatorContext<Q7Row>): void {
    const { values } = batch;
    const wm = ctx.watermark();
    const pending = this.pending;
    let late = 0;
    for (let i = 0; i < values.length; i++) {
      const [end, b, edge] = values[i];
      if (end < wm) {
        late++;
        continue;
      }
      let m = pending.get(end);
      if (m === undefined) pending.set(end, (m = { price: -Infinity, bids: [], edge: [] }));
      if (edge === 1) {
        if (b.price >= m.price) m.edge.push(b);
      } else if (b.price > m.price) {
        m.price = b.price;
        m.bids = [b];
      } else if (b.price === m.price) m.bids.push(b);
    }
    if (late > 0) ctx.count('late_bids', late);
    const state = ctx.valueState<WindowMax>('max');
    for (const [end, m] of pending) {
      const cur = state.get(end);
      if (cur === undefined) {
        // One past the end: a bid at exactly the end still joins this window.
        ctx.timers.registerEventTime(end, end + 1);
        state.put(end, prune(m));
        continue;
      }
      const price = Math.max(cur.price, m.price);
      const bids = cur.price === m.price ? [...cur.bids, ...m.bids] : cur.price > m.price ? cur.bids : m.bids;
      state.put(end, prune({ price, bids, edge: [...cur.edge, ...m.edge] }));
    }
    pending.clear();
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q7Row>): void {
    const state = ctx.valueState<WindowMax>('max');
    const m = state.get(t.key);
    if (m !== undefined) {
      for (const b of m.bids) ctx.emit(b, t.ts - 1);
      for (const b of m.edge) if (b.price === m.price) ctx.emit(b, t.ts - 1);
    }
    state.delete(t.key);
  }
}

/** Drops the edge bids below the maximum: they can no longer join. */
function prune(m: WindowMax): WindowMax {
  return m.edge.every((b) => b.price >= m.price) ? m : { price: m.price, bids: m.bids, edge: m.edge.filter((b) => b.price >= m.price) };
}

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q7',
  description: 'Nexmark q7 from Kafka: bids at the maximum price of each 10 s window (every bid repartitioned by window to the join)',
  stages: ['bids-by-window'],
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .process(new ToWindows(), 'to-windows')
      .to('to-bids-by-window');
    b.source<RepartitionEnvelope<WindowBid>>('bids-by-window')
      .process(new RepartitionReader<WindowBid>(), 'bids-by-window-dedupe')
      .process(new HighestBidJoin(), 'join')
      .to('out');
  },
});

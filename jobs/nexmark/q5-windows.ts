/**
 * Nexmark q5 (hot items) built on the engine's windows library
 * (engine/operators/windows/): bids keyed by auction into a hopping count
 * window (10 s, sliding by 2 s; panes of 2 s, so a bid is one state update),
 * then the partition's most-bid auctions per window. Same output and the same
 * final combine as q5.ts (`combineQ5`), which is the hand-written version
 * (one non-keyed operator with a per-batch combiner); the benchmark runs
 * both to show what the general-purpose library costs.
 *
 * The window results of a window all arrive in the watermark advance that
 * fires it (timers fire operator by operator, upstream first), and the
 * "most-bid" operator's own timer for that window, registered at its end,
 * fires in the same advance after them.
 */
import { count, hoppingWindow, Operator, type Batch, type OperatorContext, type Timer, type WindowResult } from '../../api/index.ts';
import { nexmarkJob } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';
import { Q5_SLIDE_MS, Q5_WINDOW_MS, type Q5Candidate } from './q5.ts';

interface Leaders {
  num: number;
  auctions: number[];
}

/** Per window start: the highest count so far and the auctions that have it. */
class MostBid extends Operator<WindowResult<number>, Q5Candidate> {
  process(batch: Batch<WindowResult<number>>, ctx: OperatorContext<Q5Candidate>): void {
    const leaders = ctx.valueState<Leaders>('leaders');
    for (const r of batch.values) {
      const cur = leaders.get(r.start);
      if (cur === undefined) {
        leaders.put(r.start, { num: r.result, auctions: [r.key as number] });
        ctx.timers.registerEventTime(r.start, r.end);
      } else if (r.result > cur.num) leaders.put(r.start, { num: r.result, auctions: [r.key as number] });
      else if (r.result === cur.num) leaders.put(r.start, { num: cur.num, auctions: [...cur.auctions, r.key as number] });
    }
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q5Candidate>): void {
    const leaders = ctx.valueState<Leaders>('leaders');
    const ws = t.key as number;
    const cur = leaders.get(ws);
    if (cur !== undefined) for (const auction of cur.auctions) ctx.emit({ starttime: ws, endtime: ws + Q5_WINDOW_MS, auction, num: cur.num }, t.ts - 1);
    leaders.delete(ws);
  }
}

export default nexmarkJob({
  name: 'nexmark-q5-windows',
  description: 'Nexmark q5 on the windows library: hopping counts per auction, then the most-bid auctions per window',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .keyBy((e) => e.bid!.auction, 'by-auction')
      .process(hoppingWindow<NexmarkEvent, number, number>({ sizeMs: Q5_WINDOW_MS, slideMs: Q5_SLIDE_MS, aggregate: count() }), 'bids-per-window')
      .process(new MostBid(), 'most-bid')
      .to('out');
  },
});

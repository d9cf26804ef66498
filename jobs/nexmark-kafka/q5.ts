/**
 * Nexmark q5 from Kafka, hot items: per 10 s window sliding by 2 s, the
 * auctions with the most bids (the SQL joins each (auction, window) count
 * with the window's maximum count, keeping num >= max).
 *
 * Hand-written plan (labelled in the results), in three stages, finished
 * inside the job:
 *   1. per topic partition: bids projected to their auction, keyed by it, to
 *      the repartition topic `bids-by-auction`;
 *   2. keyed by auction: bids counted per (window, auction) in map state
 *      (a batch pre-aggregated in memory first); when a window ends (the
 *      minimum of the upstream watermarks passes it), the partition's
 *      most-bid auctions of it, keyed by the window, to `top-by-window`
 *      (a local maximum: a global winner is a winner of its partition, so the
 *      result is the SQL's, with at most a few candidates per partition
 *      where Flink's plan sends every count);
 *   3. keyed by window: the candidates of every partition, and when the
 *      window ends for all of them, the auctions at the window's maximum.
 */
import { defineJob, Operator, type Batch, type OperatorContext, type Timer, RepartitionReader, type RepartitionEnvelope } from '../../api/index.ts';
import { windowStart } from '../nexmark/common.ts';
import { nexmarkKafkaChoices, nexmarkKafkaDefaults, stagedSinks, stagedSources } from './common.ts';
import type { KafkaEvent } from './events.ts';

export const Q5_WINDOW_MS = 10_000;
export const Q5_SLIDE_MS = 2_000;
const STAGES = ['bids-by-auction', 'top-by-window'];

export interface Q5Row {
  starttime: number;
  endtime: number;
  auction: number;
  num: number;
}

/** Stage 2: bids per (window, auction); a window's local most-bid auctions when it ends. */
class CountPerAuction extends Operator<number, Q5Row> {
  /** Per-batch combiner: window start -> auction -> bids. Emptied after each batch. */
  private readonly pending = new Map<number, Map<number, number>>();

  process(batch: Batch<number>, ctx: OperatorContext<Q5Row>): void {
    const { values, times } = batch;
    const wm = ctx.watermark();
    const pending = this.pending;
    let late = 0;
    for (let i = 0; i < values.length; i++) {
      const auction = values[i];
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

  override onTimer(t: Timer, ctx: OperatorContext<Q5Row>): void {
    const ws = t.key as number;
    const counts = ctx.mapState<number>('counts');
    const entries = counts.entries(ws);
    let max = 0;
    for (const [, n] of entries) if (n > max) max = n;
    for (const [auction, n] of entries) {
      if (n === max) ctx.emit({ starttime: ws, endtime: ws + Q5_WINDOW_MS, auction: auction as number, num: n }, t.ts - 1, ws);
    }
    counts.clear(ws);
  }
}

/** Stage 3: per window, the candidates of every partition; at the window's end, those at the maximum. */
class WindowTop extends Operator<Q5Row, Q5Row> {
  process(batch: Batch<Q5Row>, ctx: OperatorContext<Q5Row>): void {
    const top = ctx.valueState<Q5Row[]>('top');
    for (const c of batch.values) {
      const cur = top.get(c.starttime);
      if (cur === undefined) {
        top.put(c.starttime, [c]);
        ctx.timers.registerEventTime(c.starttime, c.endtime);
      } else if (c.num > cur[0].num) top.put(c.starttime, [c]);
      else if (c.num === cur[0].num) top.put(c.starttime, [...cur, c]);
    }
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q5Row>): void {
    const top = ctx.valueState<Q5Row[]>('top');
    for (const c of top.get(t.key) ?? []) ctx.emit(c, t.ts - 1);
    top.delete(t.key);
  }
}

export default defineJob({
  name: 'nexmark-kafka-q5',
  description: 'Nexmark q5 from Kafka: most-bid auctions per 10 s window sliding by 2 s (repartitioned by auction, then by window)',
  settings: nexmarkKafkaDefaults,
  choices: nexmarkKafkaChoices,
  sources: (s) => stagedSources(s, STAGES),
  sinks: (s) => stagedSinks(s, STAGES),
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .map((e) => e.bid!.auction, 'auction')
      .keyBy((a) => a, 'by-auction')
      .to('to-bids-by-auction');
    b.source<RepartitionEnvelope<number>>('bids-by-auction')
      .process(new RepartitionReader<number>(), 'bids-by-auction-dedupe')
      .process(new CountPerAuction(), 'count-per-auction')
      .to('to-top-by-window');
    b.source<RepartitionEnvelope<Q5Row>>('top-by-window')
      .process(new RepartitionReader<Q5Row>(), 'top-by-window-dedupe')
      .process(new WindowTop(), 'window-top')
      .to('out');
  },
});

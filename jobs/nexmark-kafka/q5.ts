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
 *      where Flink's plan sends every count): the embedded q5's HotItems
 *      (jobs/nexmark/q5.ts), reading auction ids;
 *   3. keyed by window: the candidates of every partition, and when the
 *      window ends for all of them, the auctions at the window's maximum.
 */
import { Operator, type Batch, type OperatorContext, type Timer, RepartitionReader, type RepartitionEnvelope } from '../../api/index.ts';
import { HotItems, type Q5Candidate } from '../nexmark/q5.ts';
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';

/** Stage 3: per window, the candidates of every partition; at the window's end, those at the maximum. */
class WindowTop extends Operator<Q5Candidate, Q5Candidate> {
  process(batch: Batch<Q5Candidate>, ctx: OperatorContext<Q5Candidate>): void {
    const top = ctx.valueState<Q5Candidate[]>('top');
    for (const c of batch.values) {
      const cur = top.get(c.starttime);
      if (cur === undefined) {
        top.put(c.starttime, [c]);
        ctx.timers.registerEventTime(c.starttime, c.endtime);
      } else if (c.num > cur[0].num) top.put(c.starttime, [c]);
      else if (c.num === cur[0].num) top.put(c.starttime, [...cur, c]);
    }
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q5Candidate>): void {
    const top = ctx.valueState<Q5Candidate[]>('top');
    for (const c of top.get(t.key) ?? []) ctx.emit(c, t.ts - 1);
    top.delete(t.key);
  }
}

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q5',
  description: 'Nexmark q5 from Kafka: most-bid auctions per 10 s window sliding by 2 s (repartitioned by auction, then by window)',
  stages: ['bids-by-auction', 'top-by-window'],
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .map((e) => e.bid!.auction, 'auction')
      .keyBy((a) => a, 'by-auction')
      .to('to-bids-by-auction');
    b.source<RepartitionEnvelope<number>>('bids-by-auction')
      .process(new RepartitionReader<number>(), 'bids-by-auction-dedupe')
      .process(new HotItems<number>((a) => a, true), 'count-per-auction')
      .to('to-top-by-window');
    b.source<RepartitionEnvelope<Q5Candidate>>('top-by-window')
      .process(new RepartitionReader<Q5Candidate>(), 'top-by-window-dedupe')
      .process(new WindowTop(), 'window-top')
      .to('out');
  },
});

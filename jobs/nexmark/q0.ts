/**
 * Nexmark q0, passthrough: every bid, projected to its columns
 * (SELECT auction, bidder, price, dateTime, extra FROM bid). Measures the
 * engine's floor: generation, one filter, one map, the sink.
 */
import { defineJob } from '../../api/index.ts';
import { nexmarkChoices, nexmarkDefaults, nexmarkSinks, nexmarkSources } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export interface Q0Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}

export default defineJob({
  name: 'nexmark-q0',
  description: 'Nexmark q0: passthrough of bids',
  settings: nexmarkDefaults,
  choices: nexmarkChoices,
  sources: nexmarkSources,
  sinks: nexmarkSinks,
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .map((e): Q0Row => {
        const x = e.bid!;
        return { auction: x.auction, bidder: x.bidder, price: x.price, dateTime: x.dateTime, extra: x.extra };
      }, 'project')
      .to('out');
  },
});

/**
 * Nexmark q1, currency conversion: every bid with its price in euros
 * (0.908 * price), the other columns unchanged.
 */
import { defineJob } from '../../api/index.ts';
import { nexmarkChoices, nexmarkDefaults, nexmarkSinks, nexmarkSources } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export interface Q1Row {
  auction: number;
  bidder: number;
  price: number;
  dateTime: number;
  extra: string;
}

/** Dollars to euros, the reference's constant. */
export function toEuro(price: number): number {
  return 0.908 * price;
}

export default defineJob({
  name: 'nexmark-q1',
  description: 'Nexmark q1: bid prices converted to euros',
  settings: nexmarkDefaults,
  choices: nexmarkChoices,
  sources: nexmarkSources,
  sinks: nexmarkSinks,
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .map((e): Q1Row => {
        const x = e.bid!;
        return { auction: x.auction, bidder: x.bidder, price: toEuro(x.price), dateTime: x.dateTime, extra: x.extra };
      }, 'to-euro')
      .to('out');
  },
});

/**
 * Nexmark q1, currency conversion: every bid with its price in euros
 * (0.908 * price), the other columns unchanged.
 */
import { bidRow, toEuro, type BidRow } from './bid-row.ts';
import { nexmarkJob } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export type Q1Row = BidRow;

export default nexmarkJob({
  name: 'nexmark-q1',
  description: 'Nexmark q1: bid prices converted to euros',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .map((e): Q1Row => bidRow(e.bid!, toEuro(e.bid!.price)), 'to-euro')
      .to('out');
  },
});

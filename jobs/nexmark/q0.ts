/**
 * Nexmark q0, passthrough: every bid, projected to its columns
 * (SELECT auction, bidder, price, dateTime, extra FROM bid). Measures the
 * engine's floor: generation, one filter, one map, the sink.
 */
import { bidRow, type BidRow } from './bid-row.ts';
import { nexmarkJob } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export type Q0Row = BidRow;

export default nexmarkJob({
  name: 'nexmark-q0',
  description: 'Nexmark q0: passthrough of bids',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID, 'bids')
      .map((e): Q0Row => bidRow(e.bid!), 'project')
      .to('out');
  },
});

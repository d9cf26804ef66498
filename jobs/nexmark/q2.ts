/**
 * Nexmark q2, selection: (auction, price) of the bids on every 123rd
 * auction (SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0).
 */
import { nexmarkJob } from './common.ts';
import { BID, type NexmarkEvent } from './model.ts';

export interface Q2Row {
  auction: number;
  price: number;
}

export default nexmarkJob({
  name: 'nexmark-q2',
  description: 'Nexmark q2: bids on every 123rd auction',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === BID && e.bid!.auction % 123 === 0, 'select')
      .map((e): Q2Row => ({ auction: e.bid!.auction, price: e.bid!.price }), 'project')
      .to('out');
  },
});

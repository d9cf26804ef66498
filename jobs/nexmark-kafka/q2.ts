/**
 * Nexmark q2 from Kafka, selection: SELECT auction, price FROM bid WHERE
 * MOD(auction, 123) = 0. Stateless.
 */
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q2',
  description: 'Nexmark q2 from Kafka: bids of every 123rd auction',
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2 && e.bid!.auction % 123 === 0, 'bids-of-every-123rd-auction')
      .map((e) => ({ auction: e.bid!.auction, price: e.bid!.price }), 'project')
      .to('out');
  },
});

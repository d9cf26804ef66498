/**
 * Nexmark q1 from Kafka, currency conversion: SELECT auction, bidder,
 * 0.908 * price AS price, dateTime, extra FROM bid. Stateless.
 */
import { bidRow, toEuro } from '../nexmark/bid-row.ts';
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q1',
  description: 'Nexmark q1 from Kafka: bid prices in euros',
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .map((e) => bidRow(e.bid!, toEuro(e.bid!.price)), 'project')
      .to('out');
  },
});

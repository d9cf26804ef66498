/**
 * Nexmark q0 from Kafka, pass-through: SELECT auction, bidder, price,
 * dateTime, extra FROM bid. Stateless: no repartition.
 */
import { bidRow } from '../nexmark/bid-row.ts';
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q0',
  description: 'Nexmark q0 from Kafka: passthrough of bids',
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .map((e) => bidRow(e.bid!), 'project')
      .to('out');
  },
});

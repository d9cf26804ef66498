/**
 * Nexmark q1 from Kafka, currency conversion: SELECT auction, bidder,
 * 0.908 * price AS price, dateTime, extra FROM bid. Stateless.
 */
import { defineJob } from '../../api/index.ts';
import { nexmarkKafkaChoices, nexmarkKafkaDefaults, outputSink, eventsSource } from './common.ts';
import type { KafkaEvent } from './events.ts';

export default defineJob({
  name: 'nexmark-kafka-q1',
  description: 'Nexmark q1 from Kafka: bid prices in euros',
  settings: nexmarkKafkaDefaults,
  choices: nexmarkKafkaChoices,
  sources: (s) => ({ events: eventsSource(s) }),
  sinks: (s) => ({ out: outputSink(s) }),
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .map((e) => {
        const x = e.bid!;
        return { auction: x.auction, bidder: x.bidder, price: 0.908 * x.price, dateTime: x.dateTime, extra: x.extra };
      }, 'project')
      .to('out');
  },
});

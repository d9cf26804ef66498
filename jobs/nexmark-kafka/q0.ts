/**
 * Nexmark q0 from Kafka, pass-through: SELECT auction, bidder, price,
 * dateTime, extra FROM bid. Stateless: no repartition.
 */
import { defineJob } from '../../api/index.ts';
import { nexmarkKafkaChoices, nexmarkKafkaDefaults, outputSink, eventsSource } from './common.ts';
import type { KafkaEvent } from './events.ts';

export default defineJob({
  name: 'nexmark-kafka-q0',
  description: 'Nexmark q0 from Kafka: passthrough of bids',
  settings: nexmarkKafkaDefaults,
  choices: nexmarkKafkaChoices,
  sources: (s) => ({ events: eventsSource(s) }),
  sinks: (s) => ({ out: outputSink(s) }),
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 2, 'bids')
      .map((e) => {
        const x = e.bid!;
        return { auction: x.auction, bidder: x.bidder, price: x.price, dateTime: x.dateTime, extra: x.extra };
      }, 'project')
      .to('out');
  },
});

/**
 * Nexmark q8 from Kafka, monitor new users: people who registered and opened
 * an auction in the same 10 s tumbling window (persons grouped by id, name
 * and window, joined with auctions grouped by seller and window).
 *
 * Hand-written plan (labelled in the results), in two stages:
 *   1. per topic partition: persons projected to their name and auctions to
 *      nothing but their seller, keyed by person id / seller, to the
 *      repartition topic `by-person`;
 *   2. keyed by person id: the window join (NewUsersJoin, shared with the
 *      embedded q8, jobs/nexmark/q8.ts). A row goes out as soon as both
 *      sides of a (person, window) are there (the result set is the SQL's);
 *      per key, the person (name, window, emitted?) until its window ends,
 *      and the windows in which it sold before its person came, both cleared
 *      by an event-time timer at the window's end. Event time is the
 *      minimum of the upstream partitions' watermarks (forwarded through the
 *      topic), so a window ends only when every partition has passed it.
 */
import { RepartitionReader, type RepartitionEnvelope } from '../../api/index.ts';
import { NewUsersJoin } from '../nexmark/q8.ts';
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';

/** Stage 1's records: a person's name, or 0 for an auction of the seller. */
type BySeller = string | 0;

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q8',
  description: 'Nexmark q8 from Kafka: people who opened an auction in the 10 s window they registered in (repartitioned by person id)',
  stages: ['by-person'],
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 0 || e.event_type === 1, 'persons-and-auctions')
      .keyBy((e) => (e.event_type === 0 ? e.person!.id : e.auction!.seller), 'by-person-id')
      .map((e): BySeller => (e.event_type === 0 ? e.person!.name : 0), 'project')
      .to('to-by-person');
    b.source<RepartitionEnvelope<BySeller>>('by-person')
      .process(new RepartitionReader<BySeller>(), 'by-person-dedupe')
      .process(new NewUsersJoin<BySeller>((v) => (v === 0 ? undefined : v)), 'join')
      .to('out');
  },
});

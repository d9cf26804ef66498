/**
 * Nexmark q3 from Kafka, local item suggestion:
 *
 *   SELECT P.name, P.city, P.state, A.id FROM auction A JOIN person P
 *   ON A.seller = P.id WHERE A.category = 10 AND P.state IN ('OR','ID','CA')
 *
 * Hand-written plan (labelled in the results), in two stages:
 *   1. per topic partition: persons in OR/ID/CA, projected to (name, city,
 *      state), and category-10 auctions, projected to their id, keyed by
 *      person id / seller, to the repartition topic `by-person` (the filters
 *      and projections Flink's planner pushes below its join);
 *   2. keyed by person id: the join. State per key: the person's columns once
 *      it came, and the ids of auctions that came before it (map state). A
 *      person id is unique, so once its person came an auction is answered at
 *      once and not stored. Auctions whose seller never matches stay, as in
 *      the SQL's join.
 */
import { KeyedProcessFunction, type Key, type OperatorContext, RepartitionReader, type RepartitionEnvelope } from '../../api/index.ts';
import { q3SellerMatches } from '../nexmark/q3.ts';
import { nexmarkKafkaJob } from './common.ts';
import type { KafkaEvent } from './events.ts';


/** Stage 1's records: a person's (name, city, state), or an auction's id. */
type BySeller = [string, string, string] | number;

export interface Q3Row {
  name: string;
  city: string;
  state: string;
  id: number;
}

class LocalItemJoin extends KeyedProcessFunction<BySeller, Q3Row> {
  processElement(v: BySeller, key: Key, time: number, ctx: OperatorContext<Q3Row>): void {
    const persons = ctx.valueState<[string, string, string]>('person');
    const waiting = ctx.mapState<1>('waiting-auctions');
    if (typeof v !== 'number') {
      for (const id of waiting.keys(key)) ctx.emit({ name: v[0], city: v[1], state: v[2], id: id as number }, time, key);
      waiting.clear(key);
      persons.put(key, v);
      return;
    }
    const p = persons.get(key);
    if (p === undefined) waiting.put(key, v, 1);
    else ctx.emit({ name: p[0], city: p[1], state: p[2], id: v }, time, key);
  }
}

export default nexmarkKafkaJob({
  name: 'nexmark-kafka-q3',
  description: 'Nexmark q3 from Kafka: category-10 auctions joined with sellers in OR/ID/CA (repartitioned by person id)',
  stages: ['by-person'],
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => {
        if (e.event_type === 0) return q3SellerMatches(e.person!.state);
        return e.event_type === 1 && e.auction!.category === 10;
      }, 'matching-persons-and-category-10-auctions')
      .keyBy((e) => (e.event_type === 0 ? e.person!.id : e.auction!.seller), 'by-person-id')
      .map((e): BySeller => (e.event_type === 0 ? [e.person!.name, e.person!.city, e.person!.state] : e.auction!.id), 'project')
      .to('to-by-person');
    b.source<RepartitionEnvelope<BySeller>>('by-person').process(new RepartitionReader<BySeller>(), 'by-person-dedupe').process(new LocalItemJoin(), 'join').to('out');
  },
});

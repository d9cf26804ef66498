/**
 * Nexmark q3, local item suggestion: an incremental (unwindowed) join of
 * auctions in category 10 with their sellers living in OR, ID or CA:
 *
 *   SELECT P.name, P.city, P.state, A.id FROM auction A JOIN person P
 *   ON A.seller = P.id WHERE A.category = 10 AND P.state IN ('OR','ID','CA')
 *
 * Keyed by person id (= auction.seller): the generator keeps a seller in its
 * auction's partition, so the join is local to a partition actor.
 *
 * State, per person id: what the join needs of the person (name, city,
 * state) when the person matches the filter, or 0 when it does not; and the
 * ids of auctions that arrived before their seller (the generator lets an
 * auction name a person up to 10 ids ahead). Person ids are unique, so once
 * a person has arrived an auction is answered at once and never stored;
 * that is what bounds the state to one small entry per person, where a
 * general SQL join would keep every auction too.
 */
import { KeyedProcessFunction, type Key, type OperatorContext } from '../../api/index.ts';
import { nexmarkJob } from './common.ts';
import { AUCTION, PERSON, type NexmarkEvent } from './model.ts';

export interface Q3Row {
  name: string;
  city: string;
  state: string;
  id: number;
}

interface Seller {
  name: string;
  city: string;
  state: string;
}

export function q3SellerMatches(state: string): boolean {
  return state === 'OR' || state === 'ID' || state === 'CA';
}

class LocalItemJoin extends KeyedProcessFunction<NexmarkEvent, Q3Row> {
  processElement(e: NexmarkEvent, key: Key, time: number, ctx: OperatorContext<Q3Row>): void {
    const sellers = ctx.valueState<Seller | 0>('seller');
    const waiting = ctx.valueState<number[]>('waiting-auctions');
    if (e.type === PERSON) {
      const p = e.person!;
      const s: Seller | 0 = q3SellerMatches(p.state) ? { name: p.name, city: p.city, state: p.state } : 0;
      const early = waiting.get(key);
      if (early !== undefined) {
        if (s !== 0) for (const id of early) ctx.emit({ name: s.name, city: s.city, state: s.state, id }, time, key);
        waiting.delete(key);
      }
      sellers.put(key, s);
      return;
    }
    const s = sellers.get(key);
    if (s === undefined) {
      const early = waiting.get(key);
      waiting.put(key, early === undefined ? [e.auction!.id] : [...early, e.auction!.id]);
    } else if (s !== 0) {
      ctx.emit({ name: s.name, city: s.city, state: s.state, id: e.auction!.id }, time, key);
    }
  }
}

export default nexmarkJob({
  name: 'nexmark-q3',
  description: 'Nexmark q3: incremental join of category-10 auctions with sellers in OR/ID/CA',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      // Every person goes in (a non-matching one answers its early auctions with "no"), only category-10 auctions do.
      .filter((e) => e.type === PERSON || (e.type === AUCTION && e.auction!.category === 10), 'persons-and-category-10')
      .keyBy((e) => (e.type === PERSON ? e.person!.id : e.auction!.seller), 'by-person-id')
      .process(new LocalItemJoin(), 'join')
      .to('out');
  },
});

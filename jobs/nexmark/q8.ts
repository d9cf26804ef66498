/**
 * Nexmark q8, monitor new users: people who registered and opened an
 * auction in the same 10 s tumbling window:
 *
 *   SELECT P.id, P.name, P.starttime FROM
 *     (persons grouped by id, name, 10 s window) P JOIN
 *     (auctions grouped by seller, 10 s window) A
 *   ON P.id = A.seller AND P.starttime = A.starttime
 *
 * Keyed by person id (= auction.seller), co-partitioned by the generator.
 * A row is emitted as soon as both sides are there (not at the window's
 * end): the result set is the same, and the state can go at the window's
 * end. Per key: the person (name, window, emitted?) until its window ends,
 * and the windows in which the key sold something before its person record
 * came (cleared at each window's end by an event-time timer).
 */
import { KeyedProcessFunction, type Key, type OperatorContext, type Timer } from '../../api/index.ts';
import { nexmarkJob, windowStart } from './common.ts';
import { AUCTION, PERSON, type NexmarkEvent } from './model.ts';

export const Q8_WINDOW_MS = 10_000;

export interface Q8Row {
  id: number;
  name: string;
  starttime: number;
}

interface NewPerson {
  name: string;
  w: number;
  emitted: boolean;
}

/**
 * The window join, keyed by person id. Shared with the Kafka-fed q8, whose
 * records are the person's name or 0 for an auction: `nameOf` gives a
 * person's name, undefined for an auction.
 */
export class NewUsersJoin<T> extends KeyedProcessFunction<T, Q8Row> {
  constructor(private readonly nameOf: (v: T) => string | undefined) {
    super();
  }

  processElement(v: T, key: Key, time: number, ctx: OperatorContext<Q8Row>): void {
    const w = windowStart(time, Q8_WINDOW_MS);
    if (w + Q8_WINDOW_MS <= ctx.watermark()) {
      ctx.count('late_events');
      return;
    }
    const persons = ctx.valueState<NewPerson>('person');
    const sold = ctx.mapState<1>('sold-in-window');
    // The key is the person id (= the auction's seller).
    const id = Number(key);
    const name = this.nameOf(v);
    if (name !== undefined) {
      const paired = sold.get(key, w) !== undefined;
      if (paired) ctx.emit({ id, name, starttime: w }, time, key);
      persons.put(key, { name, w, emitted: paired });
      ctx.timers.registerEventTime(key, w + Q8_WINDOW_MS);
      return;
    }
    const p = persons.get(key);
    if (p !== undefined && p.w === w) {
      if (!p.emitted) {
        ctx.emit({ id, name: p.name, starttime: w }, time, key);
        persons.put(key, { name: p.name, w, emitted: true });
      }
    } else if (sold.get(key, w) === undefined) {
      sold.put(key, w, 1);
      ctx.timers.registerEventTime(key, w + Q8_WINDOW_MS);
    }
  }

  override onTimer(t: Timer, ctx: OperatorContext<Q8Row>): void {
    const persons = ctx.valueState<NewPerson>('person');
    const p = persons.get(t.key);
    if (p !== undefined && p.w + Q8_WINDOW_MS <= t.ts) persons.delete(t.key);
    ctx.mapState<1>('sold-in-window').delete(t.key, t.ts - Q8_WINDOW_MS);
  }
}

export default nexmarkJob({
  name: 'nexmark-q8',
  description: 'Nexmark q8: people who opened an auction in the 10 s window they registered in',
  pipeline(b) {
    b.source<NexmarkEvent>('events')
      .filter((e) => e.type === PERSON || e.type === AUCTION, 'persons-and-auctions')
      .keyBy((e) => (e.type === PERSON ? e.person!.id : e.auction!.seller), 'by-person-id')
      .process(new NewUsersJoin<NexmarkEvent>((e) => (e.type === PERSON ? e.person!.name : undefined)), 'join')
      .to('out');
  },
});

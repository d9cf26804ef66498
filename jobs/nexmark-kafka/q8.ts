/**
 * Nexmark q8 from Kafka, monitor new users: people who registered and opened
 * an auction in the same 10 s tumbling window (persons grouped by id, name
 * and window, joined with auctions grouped by seller and window).
 *
 * Hand-written plan (labelled in the results), in two stages:
 *   1. per topic partition: persons projected to their name and auctions to
 *      nothing but their seller, keyed by person id / seller, to the
 *      repartition topic `by-person`;
 *   2. keyed by person id: the window join. A row goes out as soon as both
 *      sides of a (person, window) are there (the result set is the SQL's);
 *      per key, the person (name, window, emitted?) until its window ends,
 *      and the windows in which it sold before its person came, both cleared
 *      by an event-time timer at the window's end. Event time is the
 *      minimum of the upstream partitions' watermarks (forwarded through the
 *      topic), so a window ends only when every partition has passed it.
 */
import { defineJob, KeyedProcessFunction, type Key, type OperatorContext, type Timer, RepartitionReader, type RepartitionEnvelope } from '../../api/index.ts';
import { windowStart } from '../nexmark/common.ts';
import { nexmarkKafkaChoices, nexmarkKafkaDefaults, stagedSinks, stagedSources } from './common.ts';
import type { KafkaEvent } from './events.ts';

export const Q8_WINDOW_MS = 10_000;
const STAGES = ['by-person'];

/** Stage 1's records: a person's name, or 0 for an auction of the seller. */
type BySeller = string | 0;

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

class NewUsersJoin extends KeyedProcessFunction<BySeller, Q8Row> {
  processElement(v: BySeller, key: Key, time: number, ctx: OperatorContext<Q8Row>): void {
    const w = windowStart(time, Q8_WINDOW_MS);
    if (w + Q8_WINDOW_MS <= ctx.watermark()) {
      ctx.count('late_events');
      return;
    }
    const persons = ctx.valueState<NewPerson>('person');
    const sold = ctx.mapState<1>('sold-in-window');
    const id = Number(key);
    if (v !== 0) {
      const paired = sold.get(key, w) !== undefined;
      if (paired) ctx.emit({ id, name: v, starttime: w }, time, key);
      persons.put(key, { name: v, w, emitted: paired });
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

export default defineJob({
  name: 'nexmark-kafka-q8',
  description: 'Nexmark q8 from Kafka: people who opened an auction in the 10 s window they registered in (repartitioned by person id)',
  settings: nexmarkKafkaDefaults,
  choices: nexmarkKafkaChoices,
  sources: (s) => stagedSources(s, STAGES),
  sinks: (s) => stagedSinks(s, STAGES),
  pipeline(b) {
    b.source<KafkaEvent>('events')
      .filter((e) => e.event_type === 0 || e.event_type === 1, 'persons-and-auctions')
      .keyBy((e) => (e.event_type === 0 ? e.person!.id : e.auction!.seller), 'by-person-id')
      .map((e): BySeller => (e.event_type === 0 ? e.person!.name : 0), 'project')
      .to('to-by-person');
    b.source<RepartitionEnvelope<BySeller>>('by-person').process(new RepartitionReader<BySeller>(), 'by-person-dedupe').process(new NewUsersJoin(), 'join').to('out');
  },
});

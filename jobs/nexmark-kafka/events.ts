/**
 * Nexmark events as JSON bytes in Kafka, with the reference's field names
 * (nexmark/nexmark's Kafka table, `ddl_kafka.sql`): one topic of every event,
 *
 *   { "event_type": 0 | 1 | 2,          person, auction, bid
 *     "person":  { id, name, emailAddress, creditCard, city, state, dateTime, extra } | null,
 *     "auction": { id, itemName, description, initialBid, reserve, dateTime, expires, seller, category, extra } | null,
 *     "bid":     { auction, bidder, price, channel, url, dateTime, extra } | null }
 *
 * Times are TIMESTAMP(3) in the JSON format's SQL form, "2024-01-01 00:00:05.120"
 * (UTC), which is what Flink's JSON format reads for the table's TIMESTAMP(3)
 * columns; the Kafka record timestamp is the event time too. Partition p of
 * the topic holds the reference's split p (jobs/nexmark/generator.ts, layout
 * 'split'), as the reference's generator writes it with one source task per
 * partition: keys are not co-partitioned, so keyed stages repartition.
 */
import type { Auction, Bid, NexmarkEvent, Person } from '../nexmark/model.ts';

/** A record as the topic's JSON holds it: the model's fields, its times as text (formatTime). */
type AsJson<T> = { [K in keyof T]: K extends 'dateTime' | 'expires' ? string : T[K] };

export type PersonJson = AsJson<Person>;
export type AuctionJson = AsJson<Auction>;
export type BidJson = AsJson<Bid>;

export interface KafkaEvent {
  event_type: 0 | 1 | 2;
  person: PersonJson | null;
  auction: AuctionJson | null;
  bid: BidJson | null;
}

let cachedSecond = NaN;
let cachedPrefix = '';

/** ms since the epoch -> "yyyy-MM-dd HH:mm:ss.SSS" (UTC); the second's prefix is cached, as times mostly repeat it. */
export function formatTime(ms: number): string {
  const sec = Math.floor(ms / 1000);
  if (sec !== cachedSecond) {
    cachedSecond = sec;
    const iso = new Date(sec * 1000).toISOString();
    cachedPrefix = `${iso.slice(0, 10)} ${iso.slice(11, 19)}.`;
  }
  const m = ms - sec * 1000;
  return cachedPrefix + (m >= 100 ? String(m) : m >= 10 ? `0${m}` : `00${m}`);
}

let parsedPrefix = '';
let parsedSecondMs = 0;

/**
 * "yyyy-MM-dd HH:mm:ss[.SSS]" (UTC) -> ms since the epoch. The second's
 * prefix is cached (consecutive events share it), so most calls parse three
 * digits. Returns NaN for anything else.
 */
export function parseTime(s: string): number {
  if (typeof s !== 'string' || s.length < 19) return NaN;
  const prefix = s.slice(0, 19);
  if (prefix !== parsedPrefix) {
    const t = Date.parse(`${prefix.slice(0, 10)}T${prefix.slice(11)}Z`);
    if (Number.isNaN(t)) return NaN;
    parsedPrefix = prefix;
    parsedSecondMs = t;
  }
  if (s.length === 19) return parsedSecondMs;
  const frac = s.slice(20);
  const ms = frac.length >= 3 ? Number(frac.slice(0, 3)) : Number(frac.padEnd(3, '0'));
  return Number.isNaN(ms) ? NaN : parsedSecondMs + ms;
}

/** The event's time, by its type, as the Kafka table's computed dateTime column. */
export function eventTime(e: KafkaEvent): number {
  const r = e.event_type === 0 ? e.person : e.event_type === 1 ? e.auction : e.bid;
  return r ? parseTime(r.dateTime) : NaN;
}

/** Why an event cannot be read, or undefined: it goes to the dead-letter topic, never crashes the job. */
export function validateEvent(e: KafkaEvent): string | undefined {
  if (e === null || typeof e !== 'object') return 'not an object';
  const r = e.event_type === 0 ? e.person : e.event_type === 1 ? e.auction : e.event_type === 2 ? e.bid : undefined;
  if (r === undefined) return `event_type must be 0, 1 or 2, got ${JSON.stringify(e.event_type)}`;
  if (r === null || typeof r !== 'object') return 'the record of its event_type is missing';
  if (Number.isNaN(parseTime(r.dateTime))) return `bad dateTime ${JSON.stringify(r.dateTime)}`;
  return undefined;
}

/** A generated event as the JSON the topic holds. */
export function toKafkaJson(e: NexmarkEvent): string {
  if (e.person) {
    const p = e.person;
    return JSON.stringify({ event_type: 0, person: { ...p, dateTime: formatTime(p.dateTime) }, auction: null, bid: null });
  }
  if (e.auction) {
    const a = e.auction;
    return JSON.stringify({ event_type: 1, person: null, auction: { ...a, dateTime: formatTime(a.dateTime), expires: formatTime(a.expires) }, bid: null });
  }
  const b = e.bid!;
  return JSON.stringify({ event_type: 2, person: null, auction: null, bid: { ...b, dateTime: formatTime(b.dateTime) } });
}

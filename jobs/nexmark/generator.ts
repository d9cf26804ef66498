/**
 * A deterministic, partitioned Nexmark event generator, following the rules
 * of nexmark/nexmark's NexmarkGenerator and GeneratorConfig (read, not
 * copied):
 *
 * - Event k of a timeline is a Person, an Auction or a Bid by k mod 50, in
 *   the proportions 1:3:46.
 * - Ids come from the event number: the last person/auction created so far
 *   is a function of k, so no state is carried from one event to the next.
 * - An auction's seller is a "hot" seller (the first of the last 100 people)
 *   with probability 1 - 1/hotSellersRatio, else any of the 1,000 active
 *   people (plus a lead of 10 not yet created). A bid goes to a hot auction
 *   (the first of the last 100 auctions) with probability 1 - 1/hotAuctionRatio,
 *   else to one of the 100 in-flight auctions (plus a lead of 10); its bidder
 *   is a hot bidder (the second of the last 100 people) with probability
 *   1 - 1/hotBiddersRatio, else an active person.
 * - Event time comes from the event number only: t(k) = baseTime +
 *   floor(k * interEventDelayUs / 1000), interEventDelayUs = 1e6 * P / rate.
 *   An auction expires a random time within twice the time it takes to
 *   create numInFlightAuctions more auctions.
 * - Record sizes average 200 (person), 500 (auction) and 100 (bid) bytes,
 *   padded by an `extra` string.
 *
 * Layouts (how events are spread over partitions):
 *
 * - 'split' (default; the reference's): partition p is the reference's
 *   GeneratorConfig.split(P)[p], a contiguous range of event ids starting at
 *   p * eventsPerPartition. An event's content (ids, references, random
 *   draws) comes from its event id, its time from its number within the
 *   partition (k), so the P timelines share event times. Keys are NOT
 *   co-partitioned: a partition's early events name people and auctions of
 *   the previous range, and any keyed stage must repartition, as Flink's
 *   hash shuffle does. The Kafka-fed jobs (jobs/nexmark-kafka/) read this.
 * - 'interleaved' (labelled: the hand-written embedded jobs' layout, not the
 *   reference's): each partition runs the rules on its own event numbers and
 *   base-0 id i of partition p becomes FIRST_ID + i * P + p, so
 *   partitionOf(id) = (id - FIRST_ID) mod P and every reference an event
 *   makes stays in its partition: join and group keys are co-partitioned and
 *   the embedded jobs (jobs/nexmark/q*.ts) need no shuffle. Figures on this
 *   layout are not comparable with Flink's.
 *
 * Strings: 'reference' (default) builds each string one character at a time
 * from its own draws, as the reference's StringsGenerator does (nextString:
 * a draw for space-or-letter and one for the letter per character, then
 * trim; nextExactString: six letters per 31-bit draw; credit cards from four
 * 4-digit draws). 'pool' (labelled: cheaper than the reference, kept only to
 * compare with old figures) slices a fixed random pool instead.
 *
 * Determinism: the event at (p, k) depends only on (p, k) and the config. Its
 * random choices come from a small PRNG seeded with a hash of the event id
 * (split) or of (p, k) (interleaved), so a restart at offset k regenerates
 * exactly what a crash lost. Bids carry channel and url chosen from four
 * named channels, or a numbered one 1 time in 10 whose url is built once
 * per channel and cached, as the reference's channel cache does.
 */
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts';
import { AUCTION, BID, PERSON } from './model.ts';

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
const NUM_CATEGORIES = 5;
const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
const HOT_SELLER_RATIO = 100;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;
/** 2024-01-01T00:00:00Z: a multiple of every window size the queries use. */
export const DEFAULT_BASE_TIME = Date.UTC(2024, 0, 1);

export interface NexmarkConfig {
  /** Parallel timelines = generator partitions. Event content depends on it. */
  partitions: number;
  /** Overall event-time rate, events per second of event time (the reference's firstEventRate). */
  eventsPerSecond: number;
  baseTime: number;
  personProportion: number;
  auctionProportion: number;
  bidProportion: number;
  numInFlightAuctions: number;
  numActivePeople: number;
  hotAuctionRatio: number;
  hotSellersRatio: number;
  hotBiddersRatio: number;
  avgPersonByteSize: number;
  avgAuctionByteSize: number;
  avgBidByteSize: number;
  /** How events are spread over partitions (see the header). */
  layout: 'split' | 'interleaved';
  /** Events per partition: where partition p's event ids start in the split layout. */
  eventsPerPartition: number;
  /** How strings are made (see the header). */
  strings: 'reference' | 'pool';
}

/** The reference's defaults (NexmarkConfiguration), apart from the rate and partitions, which the caller chooses. */
export function nexmarkConfig(
  partitions: number,
  eventsPerSecond: number,
  o: { baseTime?: number; layout?: NexmarkConfig['layout']; eventsPerPartition?: number; strings?: NexmarkConfig['strings'] } = {},
): NexmarkConfig {
  return {
    partitions,
    eventsPerSecond,
    baseTime: o.baseTime ?? DEFAULT_BASE_TIME,
    personProportion: 1,
    auctionProportion: 3,
    bidProportion: 46,
    numInFlightAuctions: 100,
    numActivePeople: 1000,
    hotAuctionRatio: 2,
    hotSellersRatio: 4,
    hotBiddersRatio: 4,
    avgPersonByteSize: 200,
    avgAuctionByteSize: 500,
    avgBidByteSize: 100,
    layout: o.layout ?? 'split',
    eventsPerPartition: o.eventsPerPartition ?? 0,
    strings: o.strings ?? 'reference',
  };
}

/** Interleaved layout only: the partition holding a person (by id) or an auction (by id); sellers and bidders are person ids. */
export function partitionOf(id: number, first: number, partitions: number): number {
  return (id - first) % partitions;
}

// ---- PRNG: mulberry32, reseeded per event. Module state, so no allocation per draw.

let rs = 0;

function seed(partition: number, k: number): void {
  let x = (Math.imul(partition + 1, 0x9e3779b1) ^ (k | 0) ^ Math.imul((k / 4294967296) | 0, 0x85ebca6b)) | 0;
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  rs = x ^ (x >>> 16);
}

function next32(): number {
  rs = (rs + 0x6d2b79f5) | 0;
  let t = rs;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

/** Uniform in [0, n), n <= 2^32. */
function nextInt(n: number): number {
  return Math.floor((next32() / 4294967296) * n);
}

function nextDouble(): number {
  return next32() / 4294967296;
}

// ---- String pools, built once from a fixed seed.

const POOL_SIZE = 1 << 16;

function buildPool(spaces: boolean): string {
  const saved = rs;
  rs = spaces ? 0x5eed1 : 0x5eed2;
  const chars = new Array<string>(POOL_SIZE);
  for (let i = 0; i < POOL_SIZE; i++) chars[i] = spaces && nextInt(13) === 0 ? ' ' : String.fromCharCode(97 + nextInt(26));
  rs = saved;
  return chars.join('');
}

/** Lowercase letters with a space about 1 in 13, like the reference's nextString. */
const WORDS = buildPool(true);
/** Lowercase letters only, like nextExactString. */
const LETTERS = buildPool(false);
/** "dddd dddd dddd ..." so a 19-character slice at a multiple of 5 is a credit card number. */
const DIGITS = (() => {
  const saved = rs;
  rs = 0x5eed3;
  const groups: string[] = [];
  for (let i = 0; i < 4096; i++) groups.push(String(nextInt(10000)).padStart(4, '0'));
  rs = saved;
  return groups.join(' ');
})();

// ---- Strings as the reference builds them: one draw (or two) per character.

/** Reused for every string: the characters are drawn into it, then turned into one string. */
const CHARS = new Uint16Array(1024);

function charsToString(len: number): string {
  // Chunks keep the argument count of String.fromCharCode small.
  let s = '';
  for (let at = 0; at < len; at += 256) s += String.fromCharCode.apply(null, CHARS.subarray(at, Math.min(len, at + 256)) as unknown as number[]);
  return s;
}

/** The reference's nextString: 3 + nextInt(maxLength - 3) characters, each a space 1 time in 13, else a letter; trimmed. */
function refString(maxLength: number): string {
  const len = 3 + nextInt(maxLength - 3);
  for (let i = 0; i < len; i++) CHARS[i] = nextInt(13) === 0 ? 32 : 97 + nextInt(26);
  return charsToString(len).trim();
}

/** The reference's nextExactString: six letters per 31-bit draw. */
function refExactString(len: number): string {
  let rnd = 0;
  let n = 0;
  for (let i = 0; i < len; i++) {
    if (n === 0) {
      rnd = next32() >>> 1;
      n = 6;
    }
    CHARS[i] = 97 + (rnd % 26);
    rnd = Math.floor(rnd / 26);
    n--;
  }
  return charsToString(len);
}

function refCreditCard(): string {
  return `${pad4(nextInt(10000))} ${pad4(nextInt(10000))} ${pad4(nextInt(10000))} ${pad4(nextInt(10000))}`;
}

function pad4(n: number): string {
  return n >= 1000 ? String(n) : n >= 100 ? `0${n}` : n >= 10 ? `00${n}` : `000${n}`;
}

// ---- Strings sliced from the pools (the labelled 'pool' option).

function poolString(maxLength: number): string {
  const len = 3 + nextInt(maxLength - 3);
  const at = nextInt(POOL_SIZE - len);
  return WORDS.substring(at, at + len);
}

function poolExactString(len: number): string {
  const at = nextInt(POOL_SIZE - len);
  return LETTERS.substring(at, at + len);
}

function poolCreditCard(): string {
  const at = nextInt(4096 - 4) * 5;
  return DIGITS.substring(at, at + 19);
}

let nextString = refString;
let nextExactString = refExactString;
let nextCreditCard = refCreditCard;

/** Selects the string functions of a generator before it draws (module state: one switch per event, no allocation). */
function useStrings(kind: NexmarkConfig['strings']): void {
  if (kind === 'pool') {
    nextString = poolString;
    nextExactString = poolExactString;
    nextCreditCard = poolCreditCard;
  } else {
    nextString = refString;
    nextExactString = refExactString;
    nextCreditCard = refCreditCard;
  }
}

/** The reference's nextExtra: padding so that a record averages the desired size, +-20 %. */
function nextExtra(currentSize: number, desiredAverageSize: number): string {
  if (currentSize > desiredAverageSize) return '';
  const avg = desiredAverageSize - currentSize;
  const delta = Math.round(avg * 0.2);
  const len = avg - delta + (delta === 0 ? 0 : nextInt(2 * delta));
  return nextExactString(len);
}

function nextPrice(): number {
  return Math.round(Math.pow(10, nextDouble() * 6) * 100);
}

const STATES = ['AZ', 'CA', 'ID', 'OR', 'WA', 'WY'];
const CITIES = ['Phoenix', 'Los Angeles', 'San Francisco', 'Boise', 'Portland', 'Bend', 'Redmond', 'Seattle', 'Kent', 'Cheyenne'];
const FIRST_NAMES = ['Peter', 'Paul', 'Luke', 'John', 'Saul', 'Vicky', 'Kate', 'Julie', 'Sarah', 'Deiter', 'Walter'];
const LAST_NAMES = ['Shultz', 'Abrams', 'Spencer', 'White', 'Bartels', 'Walton', 'Smith', 'Jones', 'Noris'];
const NAMES = FIRST_NAMES.flatMap((f) => LAST_NAMES.map((l) => `${f} ${l}`));
const CHANNELS = ['Google', 'Facebook', 'Baidu', 'Apple'];
const CHANNEL_URLS = CHANNELS.map((c, i) => `https://www.nexmark.com/item.htm?query=1&channel_id=${i}&from=${c.toLowerCase()}`);
/** Numbered channels' urls, built on first use from the channel number alone (the reference caches them too). */
const NUMBERED_URLS = new Map<number, string>();

function numberedUrl(n: number): string {
  let u = NUMBERED_URLS.get(n);
  if (u === undefined) {
    const saved = rs;
    seed(0x7fff, n);
    u = `https://www.nexmark.com/${refString(10)}/item.htm?query=1&channel_id=${n}`;
    rs = saved;
    NUMBERED_URLS.set(n, u);
  }
  return u;
}

/** Generates the events of one configuration; `generate(p, k)` is pure. */
export class NexmarkGenerator {
  private readonly total: number;
  private readonly delayUs: number;
  private readonly eventsForAuctions: number;
  private readonly split: boolean;

  constructor(readonly cfg: NexmarkConfig) {
    if (!Number.isInteger(cfg.partitions) || cfg.partitions < 1) throw new RangeError(`nexmark: partitions must be a positive integer, got ${cfg.partitions}`);
    if (!(cfg.eventsPerSecond > 0)) throw new RangeError(`nexmark: eventsPerSecond must be positive, got ${cfg.eventsPerSecond}`);
    if (cfg.layout === 'split' && !(cfg.partitions === 1 || cfg.eventsPerPartition > 0)) throw new RangeError('nexmark: the split layout needs eventsPerPartition');
    this.split = cfg.layout === 'split';
    this.total = cfg.personProportion + cfg.auctionProportion + cfg.bidProportion;
    this.delayUs = (1e6 * cfg.partitions) / cfg.eventsPerSecond;
    this.eventsForAuctions = Math.floor((cfg.numInFlightAuctions * this.total) / cfg.auctionProportion);
  }

  /** Event time of event k of any timeline. */
  timestamp(k: number): number {
    return this.cfg.baseTime + Math.floor((k * this.delayUs) / 1000);
  }

  /** The kind of event k (of any timeline). */
  typeOf(k: number): number {
    const rem = k % this.total;
    return rem < this.cfg.personProportion ? PERSON : rem < this.cfg.personProportion + this.cfg.auctionProportion ? AUCTION : BID;
  }

  /** The last base-0 person id created at or before event k. */
  lastPerson(k: number): number {
    const epoch = Math.floor(k / this.total);
    let off = k % this.total;
    if (off >= this.cfg.personProportion) off = this.cfg.personProportion - 1;
    return epoch * this.cfg.personProportion + off;
  }

  /** The last base-0 auction id created at or before event k (-1 before the first). */
  lastAuction(k: number): number {
    const c = this.cfg;
    let epoch = Math.floor(k / this.total);
    let off = k % this.total;
    if (off < c.personProportion) {
      epoch--;
      off = c.auctionProportion - 1;
    } else if (off >= c.personProportion + c.auctionProportion) {
      off = c.auctionProportion - 1;
    } else {
      off -= c.personProportion;
    }
    return epoch * c.auctionProportion + off;
  }

  private activePerson(k: number): number {
    const numPeople = this.lastPerson(k) + 1;
    const active = Math.min(numPeople, this.cfg.numActivePeople);
    return numPeople - active + nextInt(active + PERSON_ID_LEAD);
  }

  private inFlightAuction(k: number): number {
    const max = this.lastAuction(k);
    const min = Math.max(max - this.cfg.numInFlightAuctions, 0);
    return min + nextInt(max - min + 1 + AUCTION_ID_LEAD);
  }

  personId(base0: number, partition: number): number {
    return this.split ? FIRST_PERSON_ID + base0 : FIRST_PERSON_ID + base0 * this.cfg.partitions + partition;
  }

  auctionId(base0: number, partition: number): number {
    return this.split ? FIRST_AUCTION_ID + base0 : FIRST_AUCTION_ID + base0 * this.cfg.partitions + partition;
  }

  /** The event id of event k of a partition: what its ids and draws come from. */
  eventId(partition: number, k: number): number {
    return this.split ? partition * this.cfg.eventsPerPartition + k : k;
  }

  generate(partition: number, k: number): NexmarkEvent {
    const id = this.eventId(partition, k);
    seed(this.split ? 0 : partition, id);
    useStrings(this.cfg.strings);
    const time = this.timestamp(k);
    const type = this.typeOf(id);
    if (type === PERSON) return { type: PERSON, time, person: this.person(partition, id, time), auction: null, bid: null };
    if (type === AUCTION) return { type: AUCTION, time, person: null, auction: this.auction(partition, id, k, time), bid: null };
    return { type: BID, time, person: null, auction: null, bid: this.bid(partition, id, time) };
  }

  private person(p: number, k: number, time: number): Person {
    const name = NAMES[nextInt(NAMES.length)];
    const emailAddress = `${nextString(7)}@${nextString(5)}.com`;
    const creditCard = nextCreditCard();
    const city = CITIES[nextInt(CITIES.length)];
    const state = STATES[nextInt(STATES.length)];
    const size = 8 + name.length + emailAddress.length + creditCard.length + city.length + state.length;
    const extra = nextExtra(size, this.cfg.avgPersonByteSize);
    return { id: this.personId(this.lastPerson(k), p), name, emailAddress, creditCard, city, state, dateTime: time, extra };
  }

  /** `k` is the event id (ids, references), `n` the event's number in its partition (time). */
  private auction(p: number, k: number, n: number, time: number): Auction {
    const c = this.cfg;
    const seller0 = nextInt(c.hotSellersRatio) > 0 ? Math.floor(this.lastPerson(k) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO : this.activePerson(k);
    const category = FIRST_CATEGORY_ID + nextInt(NUM_CATEGORIES);
    const initialBid = nextPrice();
    const horizon = this.timestamp(n + this.eventsForAuctions) - time;
    const expires = time + 1 + nextInt(Math.max(horizon * 2, 1));
    const itemName = nextString(20);
    const description = nextString(100);
    const reserve = initialBid + nextPrice();
    const extra = nextExtra(8 + itemName.length + description.length + 40, c.avgAuctionByteSize);
    return {
      id: this.auctionId(this.lastAuction(k), p),
      itemName,
      description,
      initialBid,
      reserve,
      dateTime: time,
      expires,
      seller: this.personId(seller0, p),
      category,
      extra,
    };
  }

  private bid(p: number, k: number, time: number): Bid {
    const c = this.cfg;
    const auction0 = nextInt(c.hotAuctionRatio) > 0 ? Math.floor(this.lastAuction(k) / HOT_AUCTION_RATIO) * HOT_AUCTION_RATIO : this.inFlightAuction(k);
    const bidder0 = nextInt(c.hotBiddersRatio) > 0 ? Math.floor(this.lastPerson(k) / HOT_BIDDER_RATIO) * HOT_BIDDER_RATIO + 1 : this.activePerson(k);
    const price = nextPrice();
    const ch = nextInt(10);
    let channel: string;
    let url: string;
    if (ch < 9) {
      channel = CHANNELS[ch % CHANNELS.length];
      url = CHANNEL_URLS[ch % CHANNELS.length];
    } else {
      const n = nextInt(10_000);
      channel = `channel-${n}`;
      url = numberedUrl(n);
    }
    // The reference sizes a bid's extra from its four numeric fields only (8 bytes each).
    const extra = nextExtra(32, c.avgBidByteSize);
    return { auction: this.auctionId(auction0, p), bidder: this.personId(bidder0, p), price, channel, url, dateTime: time, extra };
  }
}

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
 * Partitioning. Partition p is one of the reference's parallel timelines
 * (GeneratorConfig.split: "distinct value spaces ... on parallel
 * timelines"): it runs the rules above on its own event numbers k = 0, 1, ...
 * (the offset), and the P timelines share event times, as the reference's
 * parallel generators share event numbers. Ids are interleaved so a key's
 * partition is computable: base-0 id i of partition p becomes
 * FIRST_ID + i * P + p, hence partitionOf(id) = (id - FIRST_ID) mod P. Every
 * reference an event makes (auction.seller, bid.auction, bid.bidder) stays
 * inside its own timeline, as in the reference split, so the join and group
 * keys of every query (person.id = auction.seller for q3 and q8, bid.auction
 * for q5) are co-partitioned: a key's records all reach one partition actor.
 * Global aggregates (q5's and q7's maximum over all auctions or bids of a
 * window) cannot be co-partitioned; those queries emit per-partition
 * candidates and a final combine over P records per window (see q5.ts, q7.ts).
 *
 * Determinism: the event at (p, k) depends only on (p, k) and the config. Its
 * random choices come from a small PRNG seeded with a hash of (p, k), so a
 * restart at offset k regenerates exactly what a crash lost.
 *
 * Deviations, kept on purpose: strings are slices of a fixed random pool (the
 * reference builds them character by character), so generation is cheaper
 * per event than the reference's; the "gen" Nexmark scenario measures it on
 * its own. Bids carry channel and url (the schema in the anchors) chosen from
 * four named channels, or a numbered one 1 time in 10.
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
}

/** The reference's defaults (NexmarkConfiguration), apart from the rate and partitions, which the caller chooses. */
export function nexmarkConfig(partitions: number, eventsPerSecond: number, baseTime = DEFAULT_BASE_TIME): NexmarkConfig {
  return {
    partitions,
    eventsPerSecond,
    baseTime,
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
  };
}

/** The partition holding a person (by id) or an auction (by id); sellers and bidders are person ids. */
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

function nextString(maxLength: number): string {
  const len = 3 + nextInt(maxLength - 3);
  const at = nextInt(POOL_SIZE - len);
  return WORDS.substring(at, at + len);
}

function nextExtra(currentSize: number, desiredAverageSize: number): string {
  if (currentSize > desiredAverageSize) return '';
  const avg = desiredAverageSize - currentSize;
  const delta = Math.round(avg * 0.2);
  const len = avg - delta + (delta === 0 ? 0 : nextInt(2 * delta));
  const at = nextInt(POOL_SIZE - len);
  return LETTERS.substring(at, at + len);
}

function nextCreditCard(): string {
  const at = nextInt(4096 - 4) * 5;
  return DIGITS.substring(at, at + 19);
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

/** Generates the events of one configuration; `generate(p, k)` is pure. */
export class NexmarkGenerator {
  private readonly total: number;
  private readonly delayUs: number;
  private readonly eventsForAuctions: number;

  constructor(readonly cfg: NexmarkConfig) {
    if (!Number.isInteger(cfg.partitions) || cfg.partitions < 1) throw new RangeError(`nexmark: partitions must be a positive integer, got ${cfg.partitions}`);
    if (!(cfg.eventsPerSecond > 0)) throw new RangeError(`nexmark: eventsPerSecond must be positive, got ${cfg.eventsPerSecond}`);
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
    return FIRST_PERSON_ID + base0 * this.cfg.partitions + partition;
  }

  auctionId(base0: number, partition: number): number {
    return FIRST_AUCTION_ID + base0 * this.cfg.partitions + partition;
  }

  generate(partition: number, k: number): NexmarkEvent {
    seed(partition, k);
    const time = this.timestamp(k);
    const type = this.typeOf(k);
    if (type === PERSON) return { type: PERSON, time, person: this.person(partition, k, time), auction: null, bid: null };
    if (type === AUCTION) return { type: AUCTION, time, person: null, auction: this.auction(partition, k, time), bid: null };
    return { type: BID, time, person: null, auction: null, bid: this.bid(partition, k, time) };
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

  private auction(p: number, k: number, time: number): Auction {
    const c = this.cfg;
    const seller0 = nextInt(c.hotSellersRatio) > 0 ? Math.floor(this.lastPerson(k) / HOT_SELLER_RATIO) * HOT_SELLER_RATIO : this.activePerson(k);
    const category = FIRST_CATEGORY_ID + nextInt(NUM_CATEGORIES);
    const initialBid = nextPrice();
    const horizon = this.timestamp(k + this.eventsForAuctions) - time;
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
      url = `https://www.nexmark.com/${nextString(10)}/item.htm?query=1&channel_id=${n}`;
    }
    // The reference sizes a bid's extra from its four numeric fields only (8 bytes each).
    const extra = nextExtra(32, c.avgBidByteSize);
    return { auction: this.auctionId(auction0, p), bidder: this.personId(bidder0, p), price, channel, url, dateTime: time, extra };
  }
}

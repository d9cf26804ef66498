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
 * Strings: 'reference' (default) as the reference's StringsGenerator builds
 * them, or 'pool' (labelled: cheaper than the reference); generator-strings.ts.
 * The configuration and its defaults are in generator-config.ts.
 *
 * Determinism: the event at (p, k) depends only on (p, k) and the config. Its
 * random choices come from a small PRNG (generator-random.ts) seeded with a hash of the event id
 * (split) or of (p, k) (interleaved), so a restart at offset k regenerates
 * exactly what a crash lost. Bids carry channel and url chosen from four
 * named channels, or a numbered one 1 time in 10 whose url is built once
 * per channel and cached, as the reference's channel cache does.
 */
import type { Auction, Bid, NexmarkEvent, Person } from './model.ts';
import { AUCTION, BID, PERSON } from './model.ts';
import { FIRST_AUCTION_ID, FIRST_CATEGORY_ID, FIRST_PERSON_ID, type NexmarkConfig } from './generator-config.ts';
import { nextDouble, nextInt, seed, seedState, withState } from './generator-random.ts';
import { nextCreditCard, nextExtra, nextString, refString, useStrings } from './generator-strings.ts';

const NUM_CATEGORIES = 5;
const PERSON_ID_LEAD = 10;
const AUCTION_ID_LEAD = 10;
const HOT_SELLER_RATIO = 100;
const HOT_AUCTION_RATIO = 100;
const HOT_BIDDER_RATIO = 100;

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
    u = withState(seedState(0x7fff, n), () => `https://www.nexmark.com/${refString(10)}/item.htm?query=1&channel_id=${n}`);
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

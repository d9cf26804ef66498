/**
 * The Nexmark generator's rules (jobs/nexmark/generator.ts): determinism by
 * (partition, offset), the 1:3:46 mix, co-partitioned keys, event times from
 * the event number, hot auctions/sellers/bidders, and record sizes.
 */
import { describe, expect, it } from 'vitest';
import { FIRST_AUCTION_ID, FIRST_PERSON_ID, nexmarkConfig, partitionOf } from '../../jobs/nexmark/generator-config.ts';
import { NexmarkGenerator } from '../../jobs/nexmark/generator.ts';
import { AUCTION, BID, PERSON, type NexmarkEvent } from '../../jobs/nexmark/model.ts';

const P = 4;
const N = 50_000;
// The interleaved layout: every key co-partitioned (what the embedded jobs rely on).
const gen = new NexmarkGenerator(nexmarkConfig(P, 100_000, { layout: 'interleaved' }));
const byPartition: NexmarkEvent[][] = Array.from({ length: P }, (_, p) => Array.from({ length: N }, (_, k) => gen.generate(p, k)));
const all = byPartition.flat();

describe('Nexmark generator', () => {
  it('is a pure function of (partition, offset)', () => {
    const again = new NexmarkGenerator(nexmarkConfig(P, 100_000, { layout: 'interleaved' }));
    for (const [p, k] of [[0, 0], [1, 17], [3, 49_999], [2, 1234]]) {
      // Generated out of order, on a fresh instance: same event.
      expect(again.generate(p, k)).toEqual(byPartition[p][k]);
    }
    expect(gen.generate(0, 5)).not.toEqual(gen.generate(1, 5));
  });

  it('mixes persons, auctions and bids 1:3:46', () => {
    const n = [0, 0, 0];
    for (const e of all) n[e.type]++;
    expect(n[PERSON] * 50).toBe(all.length);
    expect(n[AUCTION] * 50).toBe(all.length * 3);
    expect(n[BID] * 50).toBe(all.length * 46);
  });

  it('keeps every key in its own partition', () => {
    // Collected, then asserted once: an expect() per event would dominate the test's time.
    const wrong: string[] = [];
    byPartition.forEach((events, p) => {
      for (const e of events) {
        const keys = e.person
          ? [partitionOf(e.person.id, FIRST_PERSON_ID, P)]
          : e.auction
            ? [partitionOf(e.auction.id, FIRST_AUCTION_ID, P), partitionOf(e.auction.seller, FIRST_PERSON_ID, P)]
            : [partitionOf(e.bid!.auction, FIRST_AUCTION_ID, P), partitionOf(e.bid!.bidder, FIRST_PERSON_ID, P)];
        if (keys.some((k) => k !== p)) wrong.push(`p${p}: ${JSON.stringify(e).slice(0, 120)}`);
      }
    });
    expect(wrong).toEqual([]);
  });

  it('derives event time from the event number: non-decreasing, shared by the timelines, at the configured rate', () => {
    let backwards = 0;
    for (const events of byPartition) for (let k = 1; k < N; k++) if (events[k].time < events[k - 1].time) backwards++;
    expect(backwards).toBe(0);
    expect(byPartition[0][777].time).toBe(byPartition[3][777].time);
    // 4 timelines at 100,000 events/s overall: 40 µs per event of a timeline.
    expect(byPartition[0][N - 1].time - byPartition[0][0].time).toBe(Math.floor(((N - 1) * 40) / 1000));
  });

  it('gives person and auction ids in creation order, and auctions expire after they open', () => {
    const persons = byPartition[1].filter((e) => e.person).map((e) => e.person!.id);
    expect(persons).toEqual(persons.map((_, i) => FIRST_PERSON_ID + i * P + 1));
    for (const e of byPartition[1]) if (e.auction) expect(e.auction.expires).toBeGreaterThan(e.auction.dateTime);
  });

  it('sends about half the bids to hot auctions and most auctions to hot sellers', () => {
    const bids = byPartition[0].filter((e) => e.bid).map((e) => e.bid!);
    // A hot auction is the first of a batch of 100: base-0 id a multiple of 100.
    const hot = bids.filter((b) => ((b.auction - FIRST_AUCTION_ID) / P) % 100 === 0).length / bids.length;
    expect(hot).toBeGreaterThan(0.45); // 1 - 1/2, plus in-flight picks that happen to be hot
    expect(hot).toBeLessThan(0.6);
    const auctions = byPartition[0].filter((e) => e.auction).map((e) => e.auction!);
    const hotSellers = auctions.filter((a) => ((a.seller - FIRST_PERSON_ID) / P) % 100 === 0).length / auctions.length;
    expect(hotSellers).toBeGreaterThan(0.7); // 1 - 1/4
    const hotBidders = bids.filter((b) => ((b.bidder - FIRST_PERSON_ID) / P) % 100 === 1).length / bids.length;
    expect(hotBidders).toBeGreaterThan(0.7);
  });

  it('pads records to the reference average sizes', () => {
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const bidExtra = mean(all.filter((e) => e.bid).map((e) => e.bid!.extra.length));
    expect(bidExtra).toBeGreaterThan(60); // 100 - 32 bytes of numbers, +-20 %
    expect(bidExtra).toBeLessThan(76);
    const auctionSize = mean(all.filter((e) => e.auction).map((e) => 48 + e.auction!.itemName.length + e.auction!.description.length + e.auction!.extra.length));
    expect(auctionSize).toBeGreaterThan(450);
    expect(auctionSize).toBeLessThan(550);
  });
});

describe('Nexmark generator, split layout and strings', () => {
  const split = new NexmarkGenerator(nexmarkConfig(P, 100_000, { layout: 'split', eventsPerPartition: N }));
  const parts: NexmarkEvent[][] = Array.from({ length: P }, (_, p) => Array.from({ length: N }, (_, k) => split.generate(p, k)));

  it('gives each partition a contiguous range of event ids, as the reference split does: same events whatever P', () => {
    // One partition of 4N events holds the same events, by event id, as 4 partitions of N (times aside).
    const one = new NexmarkGenerator(nexmarkConfig(1, 100_000, { layout: 'split', eventsPerPartition: P * N }));
    for (const [p, k] of [[0, 0], [1, 17], [3, N - 1], [2, 1234]]) {
      const a = { ...parts[p][k], time: 0 };
      const b = { ...one.generate(0, p * N + k), time: 0 };
      const strip = (e: NexmarkEvent): unknown => JSON.stringify({ ...e, person: e.person && { ...e.person, dateTime: 0 }, auction: e.auction && { ...e.auction, dateTime: 0, expires: 0 }, bid: e.bid && { ...e.bid, dateTime: 0 } });
      expect(strip(a)).toBe(strip(b));
    }
    // Times come from the number within the partition: the timelines run in parallel.
    expect(parts[0][777].time).toBe(parts[3][777].time);
  });

  it('does not co-partition keys: a partition names people and auctions of another', () => {
    // Persons created by partition p have ids in its own range; the first bids of partition 1 name auctions of partition 0's range.
    const firstAuctionOf1 = parts[1].find((e) => e.auction)!.auction!.id;
    const early = parts[1].slice(0, 2000).filter((e) => e.bid && e.bid.auction < firstAuctionOf1);
    expect(early.length).toBeGreaterThan(0);
  });

  it('builds strings character by character with the reference lengths, spaces and letters', () => {
    const people = parts.flat().filter((e) => e.person).map((e) => e.person!);
    expect(people.length).toBeGreaterThan(1000);
    for (const x of people.slice(0, 500)) {
      expect(x.emailAddress).toMatch(/^[a-z ]*@[a-z ]*\.com$/);
      expect(x.creditCard).toMatch(/^\d{4} \d{4} \d{4} \d{4}$/);
      expect(x.extra).toMatch(/^[a-z]*$/);
    }
    const descs = parts.flat().filter((e) => e.auction).map((e) => e.auction!.description);
    // nextString(100): 3..99 characters before the trim, a space about 1 in 13.
    const spaces = descs.join('').split(' ').length - 1;
    const chars = descs.join('').length;
    expect(spaces / chars).toBeGreaterThan(0.05);
    expect(spaces / chars).toBeLessThan(0.1);
    expect(Math.max(...descs.map((d) => d.length))).toBeLessThanOrEqual(99);
    // Distinct strings, not slices that repeat.
    expect(new Set(descs).size).toBe(descs.length);
  });

  it('keeps the pool strings as an option', () => {
    const pool = new NexmarkGenerator(nexmarkConfig(P, 100_000, { layout: 'split', eventsPerPartition: N, strings: 'pool' }));
    const a = pool.generate(0, 1).auction!;
    // Same draws for ids and numbers, other strings; still a pure function of the position.
    expect(a.id).toBe(parts[0][1].auction!.id);
    expect(a.description).not.toBe(parts[0][1].auction!.description);
    expect(pool.generate(0, 1)).toEqual(pool.generate(0, 1));
  });
});

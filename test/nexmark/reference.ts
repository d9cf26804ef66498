/**
 * Plain reference implementations of the Nexmark queries: whole-stream
 * loops over an array of every event, written straight from the SQL of
 * nexmark/nexmark's queries/q*.sql, with no engine, state or time. The jobs
 * must produce the same rows (as multisets) on the same events.
 */
import type { NexmarkEvent } from '../../jobs/nexmark/model.ts';
import { AUCTION, BID, PERSON } from '../../jobs/nexmark/model.ts';
import { windowStart } from '../../jobs/nexmark/common.ts';

export function refQ0(events: readonly NexmarkEvent[]): unknown[] {
  return events.filter((e) => e.type === BID).map((e) => {
    const b = e.bid!;
    return { auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra };
  });
}

export function refQ1(events: readonly NexmarkEvent[]): unknown[] {
  return events.filter((e) => e.type === BID).map((e) => {
    const b = e.bid!;
    return { auction: b.auction, bidder: b.bidder, price: 0.908 * b.price, dateTime: b.dateTime, extra: b.extra };
  });
}

export function refQ2(events: readonly NexmarkEvent[]): unknown[] {
  return events.filter((e) => e.type === BID && e.bid!.auction % 123 === 0).map((e) => ({ auction: e.bid!.auction, price: e.bid!.price }));
}

export function refQ3(events: readonly NexmarkEvent[]): unknown[] {
  const persons = new Map<number, NonNullable<NexmarkEvent['person']>>();
  for (const e of events) if (e.type === PERSON) persons.set(e.person!.id, e.person!);
  const out: unknown[] = [];
  for (const e of events) {
    if (e.type !== AUCTION || e.auction!.category !== 10) continue;
    const p = persons.get(e.auction!.seller);
    if (p && (p.state === 'OR' || p.state === 'ID' || p.state === 'CA')) out.push({ name: p.name, city: p.city, state: p.state, id: e.auction!.id });
  }
  return out;
}

/** HOP(bid, 2 s, 10 s): count per (window, auction); keep the auctions with the window's maximum count. */
export function refQ5(events: readonly NexmarkEvent[]): unknown[] {
  const counts = new Map<number, Map<number, number>>();
  for (const e of events) {
    if (e.type !== BID) continue;
    const t = e.time;
    // Every window [s, s + 10 s) with s a multiple of 2 s that contains t.
    for (let s = Math.floor(t / 2000) * 2000; s > t - 10_000; s -= 2000) {
      const m = counts.get(s) ?? new Map<number, number>();
      m.set(e.bid!.auction, (m.get(e.bid!.auction) ?? 0) + 1);
      counts.set(s, m);
    }
  }
  const out: unknown[] = [];
  for (const [s, m] of counts) {
    const max = Math.max(...m.values());
    for (const [auction, num] of m) if (num === max) out.push({ starttime: s, endtime: s + 10_000, auction, num });
  }
  return out;
}

/** TUMBLE(bid, 10 s): the bids whose price is their window's maximum. */
export function refQ7(events: readonly NexmarkEvent[]): unknown[] {
  const max = new Map<number, number>();
  for (const e of events) {
    if (e.type !== BID) continue;
    const w = Math.floor(e.time / 10_000);
    max.set(w, Math.max(max.get(w) ?? -Infinity, e.bid!.price));
  }
  return events
    .filter((e) => e.type === BID && e.bid!.price === max.get(Math.floor(e.time / 10_000)))
    .map((e) => {
      const b = e.bid!;
      return { auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra };
    });
}

/** Persons and auctions grouped per 10 s tumbling window, joined on id = seller and window. */
export function refQ8(events: readonly NexmarkEvent[]): unknown[] {
  const sellers = new Set<string>();
  for (const e of events) if (e.type === AUCTION) sellers.add(`${e.auction!.seller}@${windowStart(e.time, 10_000)}`);
  const rows = new Map<string, unknown>();
  for (const e of events) {
    if (e.type !== PERSON) continue;
    const w = windowStart(e.time, 10_000);
    const p = e.person!;
    if (sellers.has(`${p.id}@${w}`)) rows.set(`${p.id}|${p.name}|${w}`, { id: p.id, name: p.name, starttime: w });
  }
  return [...rows.values()];
}

/**
 * q7 as the SQL writes it: the maximum price of each tumbling window
 * [start, end), joined with the bids whose dateTime is BETWEEN end - 10 s AND
 * end (both ends included, so a bid at exactly `end` also joins the window
 * that ends there). Rows carry the window end, to filter on it.
 */
export function refQ7Between(events: readonly NexmarkEvent[]): Array<{ row: { auction: number; bidder: number; price: number; dateTime: number; extra: string }; end: number }> {
  const max = new Map<number, number>();
  for (const e of events) {
    if (e.type !== BID) continue;
    const end = windowStart(e.time, 10_000) + 10_000;
    max.set(end, Math.max(max.get(end) ?? -Infinity, e.bid!.price));
  }
  const out: Array<{ row: { auction: number; bidder: number; price: number; dateTime: number; extra: string }; end: number }> = [];
  for (const e of events) {
    if (e.type !== BID) continue;
    const b = e.bid!;
    const row = { auction: b.auction, bidder: b.bidder, price: b.price, dateTime: b.dateTime, extra: b.extra };
    const end = windowStart(e.time, 10_000) + 10_000;
    if (b.price === max.get(end)) out.push({ row, end });
    if (e.time === end - 10_000 && b.price === max.get(e.time)) out.push({ row, end: e.time });
  }
  return out;
}

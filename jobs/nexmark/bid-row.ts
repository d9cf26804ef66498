/**
 * A bid's columns as q0, q1 and q7 select them (SELECT auction, bidder,
 * price, dateTime, extra FROM bid), for both job families: `dateTime` is ms
 * in the embedded jobs and the topic's timestamp text in the Kafka-fed ones
 * (jobs/nexmark-kafka/), which output it as they read it.
 */
export interface BidRow<T = number> {
  auction: number;
  bidder: number;
  price: number;
  dateTime: T;
  extra: string;
}

/** The bid's columns, with `price` in place of its own when given (q1's conversion). */
export function bidRow<T>(b: BidRow<T>, price = b.price): BidRow<T> {
  return { auction: b.auction, bidder: b.bidder, price, dateTime: b.dateTime, extra: b.extra };
}

/** Dollars to euros, the reference's constant (q1). */
export function toEuro(price: number): number {
  return 0.908 * price;
}

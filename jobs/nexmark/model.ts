/**
 * Nexmark's three event kinds (an online auction: people register, open
 * auctions, and bid), with the field names of nexmark/nexmark's schema.
 * Times are ms since the epoch; prices are in cents, as in the reference.
 */

export interface Person {
  id: number;
  name: string;
  emailAddress: string;
  creditCard: string;
  city: string;
  state: string;
  dateTime: number;
  extra: string;
}

export interface Auction {
  id: number;
  itemName: string;
  description: string;
  initialBid: number;
  reserve: number;
  dateTime: number;
  expires: number;
  seller: number;
  category: number;
  extra: string;
}

export interface Bid {
  auction: number;
  bidder: number;
  price: number;
  channel: string;
  url: string;
  dateTime: number;
  extra: string;
}

export const PERSON = 0;
export const AUCTION = 1;
export const BID = 2;
export type EventType = typeof PERSON | typeof AUCTION | typeof BID;

/**
 * One event: exactly one of person/auction/bid is set, as in the reference's
 * Event wrapper. Every event has the same shape (the unused fields are null),
 * so code that reads them stays monomorphic.
 */
export interface NexmarkEvent {
  type: EventType;
  /** Event time, ms: the dateTime of whichever record is set. */
  time: number;
  person: Person | null;
  auction: Auction | null;
  bid: Bid | null;
}

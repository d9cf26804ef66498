/**
 * The Nexmark generator's configuration: the reference's NexmarkConfiguration
 * defaults, the id bases, and which partition holds an id in the interleaved
 * layout (generator.ts explains the layouts and string kinds).
 */

export const FIRST_PERSON_ID = 1000;
export const FIRST_AUCTION_ID = 1000;
export const FIRST_CATEGORY_ID = 10;
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

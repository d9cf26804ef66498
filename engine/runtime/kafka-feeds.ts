/**
 * Backpressure of a Kafka input (kafka-input.ts), per partition actor: the
 * bytes posted to its worker and not yet processed, and whether the actor
 * itself says it is backpressured (its undelivered epochs are over their
 * bound: checkpoint-schedule.ts). The actor's partitions are paused while
 * either holds: above `maxInflightBytes` in flight, they resume below a
 * quarter of it, and only once the actor's sinks have caught up. Bytes, not
 * records: records vary in size, and bytes are what the worker's queue holds
 * (docs/engine.md, "Memory budget"). The bound is passed once per batch, so
 * the most in flight is the bound plus one batch (at most the consumer's
 * maxBytesPerPartition).
 *
 * The actor's own word comes with every message of its worker that carries
 * it ('processed' per batch, 'delivered' per epoch delivered, the periodic
 * 'stats'), and the latest one counts: a worker's messages arrive in the
 * order it sent them, so a stats message posted before a batch that made the
 * actor backpressured cannot resume it.
 */
import { PauseClock } from './kafka-pause-clock.ts';

interface ActorFeed {
  inflight: number;
  inflightBytes: number;
  peakInflightBytes: number;
  maxBatchBytes: number;
  paused: boolean;
  backpressured: boolean;
}

/** One partition's figures for metrics (InputStats, kafka-input.ts). */
export interface FeedStats {
  partition: number;
  owned: boolean;
  inflight: number;
  inflightBytes: number;
  peakInflightBytes: number;
  maxBatchBytes: number;
  pausedMs: number;
}

export class KafkaFeeds {
  private readonly feeds = new Map<number, ActorFeed>();
  private readonly clock = new PauseClock();

  constructor(
    private readonly maxInflightBytes: number,
    /** Pauses, or resumes, the consumer's fetches of the actor's topic partitions. */
    private readonly pauseInput: (p: number) => void,
    private readonly resumeInput: (p: number) => void,
  ) {}

  has(p: number): boolean {
    return this.feeds.has(p);
  }

  /** Whether the actor's partitions are paused now (backpressure). */
  isPaused(p: number): boolean {
    return this.feeds.get(p)?.paused ?? false;
  }

  partitions(): IterableIterator<number> {
    return this.feeds.keys();
  }

  open(p: number): void {
    this.feeds.set(p, { inflight: 0, inflightBytes: 0, peakInflightBytes: 0, maxBatchBytes: 0, paused: false, backpressured: false });
  }

  close(p: number): void {
    this.feeds.delete(p);
    this.clock.end(p);
  }

  /** A batch of `records` (`bytes` on the wire) was posted to the actor's worker. */
  sent(p: number, records: number, bytes: number): void {
    const feed = this.feeds.get(p);
    if (!feed) return;
    feed.inflight += records;
    feed.inflightBytes += bytes;
    if (bytes > feed.maxBatchBytes) feed.maxBatchBytes = bytes;
    if (feed.inflightBytes > feed.peakInflightBytes) feed.peakInflightBytes = feed.inflightBytes;
    if (feed.inflightBytes > this.maxInflightBytes) this.pause(p, feed);
  }

  /** The worker processed a batch; `backpressured`: the actor's word after it. */
  processed(p: number, records: number, bytes: number, backpressured: boolean): void {
    const feed = this.feeds.get(p);
    if (!feed) return;
    feed.inflight -= records;
    feed.inflightBytes -= bytes;
    this.pressure(p, backpressured);
  }

  /** The actor's word on its backpressure, from its worker's latest message. */
  pressure(p: number, backpressured: boolean): void {
    const feed = this.feeds.get(p);
    if (!feed) return;
    feed.backpressured = backpressured;
    if (backpressured) this.pause(p, feed);
    else this.maybeResume(p, feed);
  }

  /** Resumes what can be (run periodically, for anything a message did not resume). */
  resumeAll(): void {
    for (const [p, feed] of this.feeds) this.maybeResume(p, feed);
  }

  private pause(p: number, feed: ActorFeed): void {
    if (feed.paused) return;
    feed.paused = true;
    this.clock.start(p);
    this.pauseInput(p);
  }

  private maybeResume(p: number, feed: ActorFeed): void {
    if (!feed.paused || feed.inflightBytes > this.maxInflightBytes / 4 || feed.backpressured) return;
    feed.paused = false;
    this.clock.end(p);
    this.resumeInput(p);
  }

  /** Figures for metrics, for every partition this process owns or owned. */
  stats(now = Date.now()): FeedStats[] {
    const ps = new Set([...this.feeds.keys(), ...this.clock.partitions()]);
    return [...ps].map((p) => {
      const feed = this.feeds.get(p);
      const f = { inflight: 0, inflightBytes: 0, peakInflightBytes: 0, maxBatchBytes: 0, ...feed };
      return { partition: p, owned: feed !== undefined, inflight: f.inflight, inflightBytes: f.inflightBytes, peakInflightBytes: f.peakInflightBytes, maxBatchBytes: f.maxBatchBytes, pausedMs: this.clock.of(p, now) };
    });
  }
}

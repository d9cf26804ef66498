/**
 * When a partition actor checkpoints, and when it stops taking input: the
 * bounds that keep its memory bounded (docs/engine.md, "Memory budget").
 *
 *   - The interval: a checkpoint every `checkpointIntervalMs`, from the
 *     worker's tick, which the batch loop also runs when the interval is up
 *     (worker-ticks.ts), so a flood of batches checkpoints on time too.
 *   - The epoch bound: an epoch closes once it holds `maxEpochRecords`
 *     records of output (outbox) or dirty state entries (each one a
 *     changelog record), whichever comes first, plus what the batch that
 *     crossed it added. The worker checks it after every batch and then
 *     ticks, so a flood of batches, which starves the worker's timers (Node
 *     runs a thousand or more queued port messages per event-loop turn
 *     before any timer), still checkpoints.
 *   - The delivery backlog: the actor becomes backpressured (its Kafka
 *     input pauses, its embedded sources wait) when its committed-but-
 *     undelivered epochs hold `maxUndeliveredRecords` records, or number
 *     `maxBacklogEpochs` (sinks that are behind in time, whatever the
 *     sizes), and stays so until they are down to half of both. Without
 *     that gap, each delivered epoch would resume the input and the next
 *     batch pause it again; and a pause drops what the consumer had fetched
 *     for the partition, to be fetched again (engine/kafka/consumer.ts).
 */

/**
 * Defaults of the bounds (JobRunnerOptions.maxEpochRecords,
 * maxUndeliveredRecords; --max-epoch-records, --max-undelivered-records).
 *
 * Epochs: no record bound. The interval bounds an epoch in time, under any
 * load (a flood ticks from the batch loop). Each checkpoint costs its
 * changelog, so a small bound costs rate: with 20 k / 60 k a 500 k-order
 * catch-up did 48 k records per CPU-second against 78 k with the interval
 * alone (bench/notes/35-catchup-memory.md).
 *
 * Delivery backlog: 100,000 records per actor. Four epochs of a catch-up
 * are not a bound in size: their Kafka transactions lagged processing by
 * seconds, and 300-500 k records per actor waited (packs, output records
 * and their outbox pages). With this bound the 2 M-order catch-up peaked
 * 300-700 MiB lower at the same rate (2,110 and 2,240 MiB at 67.9 k and
 * 66.8 k records per CPU-second, against 2,780 and 2,553 MiB at 66.5 k and
 * 62.2 k without, alternating runs, bench/notes/35-catchup-memory.md): the
 * input waits for delivery instead of running ahead of it.
 */
export const EPOCH_BOUNDS = {
  maxEpochRecords: Infinity,
  maxUndeliveredRecords: 100_000,
};

/** Output records of the open epoch at which the actor stops taking input (checkpoints are not keeping up), whatever the bounds. */
const MAX_OPEN_OUTBOX = 200_000;

export class CheckpointSchedule {
  private last = 0;
  private pressed = false;
  private readonly slack: number;
  /** Undelivered epochs that mean "sinks are behind": four, or a second's worth at short intervals. */
  readonly maxBacklogEpochs: number;

  constructor(
    private readonly intervalMs: number,
    /** Half a tick (tickPeriodMs): a checkpoint within it of its time is due now rather than a whole tick late. */
    tickMs: number,
    readonly maxEpochRecords = EPOCH_BOUNDS.maxEpochRecords,
    readonly maxUndeliveredRecords = EPOCH_BOUNDS.maxUndeliveredRecords,
  ) {
    this.slack = Math.floor(tickMs / 2);
    this.maxBacklogEpochs = Math.max(4, Math.ceil(1000 / Math.max(1, intervalMs)));
  }

  /** A checkpoint (or an idle tick that needed none) started at `at`: the interval runs from here. */
  started(at: number): void {
    this.last = at;
  }

  intervalUp(now: number): boolean {
    return now - this.last >= this.intervalMs - this.slack;
  }

  /** When the interval is next up. */
  nextAt(): number {
    return this.last + this.intervalMs - this.slack;
  }

  /** The open epoch reached its bound: `outboxRecords` of output, or the store's dirty entries (`storeFull`). */
  epochFull(outboxRecords: number, storeFull: boolean): boolean {
    return storeFull || outboxRecords >= this.maxEpochRecords;
  }

  /**
   * The actor must not take input: its undelivered epochs reached a bound
   * and are not down to half of it yet, or the open epoch's output is far
   * over its own bound (checkpoints are not happening).
   */
  behind(undeliveredEpochs: number, undeliveredRecords: number, outboxRecords: number): boolean {
    if (undeliveredEpochs >= this.maxBacklogEpochs || undeliveredRecords >= this.maxUndeliveredRecords) this.pressed = true;
    else if (undeliveredEpochs <= this.maxBacklogEpochs / 2 && undeliveredRecords <= this.maxUndeliveredRecords / 2) this.pressed = false;
    return this.pressed || outboxRecords >= Math.min(10 * this.maxEpochRecords, MAX_OPEN_OUTBOX);
  }
}

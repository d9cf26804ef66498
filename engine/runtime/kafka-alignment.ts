/**
 * Event-time alignment of a partition actor's Kafka inputs: while one input
 * is ahead of another by more than `maxDriftMs` of record time, its fetches
 * are held (KafkaInput holds its topic partition in the consumer: what was
 * already fetched is still delivered), until the input behind is within half
 * of that.
 *
 * Why: a job that joins two topics catching up on a backlog reads each at the
 * consumer's pace, in bytes. Topics whose records differ in size drift apart
 * in event time; in the orders-payments catch-up the orders ran ahead of
 * their payments by tens of minutes. Every order then waited in the join's
 * state, was written to LMDB and to the changelog, evicted from the cache
 * and read back, and deleted later, where aligned it would be joined within
 * the same epoch and never written at all (bench/notes/30-kafka.md). Kafka
 * Streams avoids this by taking the record with the lowest timestamp among a
 * task's partitions; Flink's watermark alignment pauses the splits ahead.
 *
 * What counts as behind: an input that has posted records, is not at the
 * end of what its partition held when fetched (high watermark), has not
 * ended (bounded run), and posted within `idleMs`. An input that is empty,
 * caught up or quiet holds nothing back, so alignment never waits for data
 * that is not there, as Kafka Streams' max.task.idle.ms = 0 does not: it
 * only orders records that are there to be read. Hence no deadlock: the input
 * furthest behind is never held, and any input that stops posting stops
 * holding the others within `idleMs` (KafkaInput re-evaluates every 100 ms).
 *
 * While the actor's input is paused (backpressure: kafka-feeds.ts), its
 * inputs cannot post, so their quiet does not count as idle: the hold stays
 * (KafkaInput's tick says which actors are paused).
 *
 * "At the end" is the end of what the consumer may read: the last stable
 * offset (read_committed stops there while a transaction is open), else the
 * high watermark (KafkaBatch.readEnd).
 *
 * Time is the Kafka record timestamp of the last record posted: the
 * producer's CreateTime (the engine's own sinks stamp the event time), or
 * the broker's for a LogAppendTime topic. Inputs whose timestamps mean
 * different things are not aligned with each other: KafkaInput leaves out a
 * job's internal repartition topics, which carry the event time, while the
 * raw topics they are made from carry their producers' time. Alignment
 * steers fetching only: nothing is dropped, each input keeps its order, and
 * event-time results do not depend on it (the interleaving of the inputs
 * does, as it does on any consumer's timing).
 */

interface InputClock {
  /** Timestamp of the last record posted; -Infinity before the first. */
  at: number;
  /** The last batch reached the partition's high watermark. */
  caughtUp: boolean;
  ended: boolean;
  held: boolean;
  /** Wall time of the last batch posted. */
  postedAt: number;
}

/** Default drift between an actor's inputs, ms of record time (JobRunnerOptions.inputAlignmentMs). */
export const INPUT_ALIGNMENT_MS = 10_000;
/** An input that posted nothing for this long holds nothing back. */
const IDLE_MS = 500;

export class InputAlignment {
  private readonly actors = new Map<number, InputClock[]>();
  holds = 0;

  constructor(
    /** 0 turns alignment off. */
    private readonly maxDriftMs: number,
    private readonly hold: (p: number, input: number) => void,
    private readonly release: (p: number, input: number) => void,
    private readonly idleMs = IDLE_MS,
  ) {}

  /** Opens actor `p`: one flag per input, true for the inputs that are aligned (the others are never held and hold nothing back). */
  open(p: number, aligned: readonly boolean[]): void {
    if (this.maxDriftMs <= 0 || aligned.filter(Boolean).length < 2) return;
    // An input left out counts as ended: never behind, never held.
    this.actors.set(p, aligned.map((a) => ({ at: -Infinity, caughtUp: false, ended: !a, held: false, postedAt: 0 })));
  }

  /** The actor is gone: its held inputs are released (the consumer forgets nothing otherwise). */
  close(p: number): void {
    const clocks = this.actors.get(p);
    if (!clocks) return;
    this.actors.delete(p);
    clocks.forEach((c, i) => c.held && this.release(p, i));
  }

  /** A batch of `input` was posted to the actor: its last record's timestamp, and whether it reached the high watermark. */
  posted(p: number, input: number, timestamp: number, caughtUp: boolean, now: number): void {
    const clocks = this.actors.get(p);
    if (!clocks) return;
    const c = clocks[input];
    if (timestamp > c.at) c.at = timestamp;
    c.caughtUp = caughtUp;
    c.postedAt = now;
    this.align(p, clocks, now);
  }

  /** Bounded run: `input` was read to its bound. */
  ended(p: number, input: number, now: number): void {
    const clocks = this.actors.get(p);
    if (!clocks) return;
    clocks[input].ended = true;
    this.align(p, clocks, now);
  }

  /**
   * Re-evaluates every actor: an input behind that went quiet stops holding
   * the others. For an actor whose input is paused, the quiet is the pause's:
   * its inputs count as having posted now.
   */
  tick(now: number, paused: (p: number) => boolean): void {
    for (const [p, clocks] of this.actors) {
      if (paused(p)) {
        for (const c of clocks) c.postedAt = now;
        continue;
      }
      this.align(p, clocks, now);
    }
  }

  /** Whether `input` of actor `p` is held now. */
  isHeld(p: number, input: number): boolean {
    return this.actors.get(p)?.[input].held ?? false;
  }

  private align(p: number, clocks: InputClock[], now: number): void {
    let low = Infinity;
    for (const c of clocks) {
      if (c.at > -Infinity && !c.caughtUp && !c.ended && now - c.postedAt <= this.idleMs && c.at < low) low = c.at;
    }
    for (let i = 0; i < clocks.length; i++) {
      const c = clocks[i];
      if (!c.held && !c.ended && c.at - low > this.maxDriftMs) {
        c.held = true;
        this.holds++;
        this.hold(p, i);
      } else if (c.held && (low === Infinity || c.at - low <= this.maxDriftMs / 2 || c.ended)) {
        c.held = false;
        this.release(p, i);
      }
    }
  }
}

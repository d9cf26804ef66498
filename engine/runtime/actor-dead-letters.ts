/**
 * A partition actor's dead letters: each is built with what locates its
 * record (dead-letter.ts), appended to the dead-letter sink in the open
 * epoch, and counted by reason only once that epoch is delivered, so the
 * counts match what the dead-letter sink holds.
 */
import { buildLetter, DLQ_MAX_VALUE_BYTES, type LetterContext } from './dead-letter.ts';
import type { LimitBreach } from './input-limits.ts';
import { DEAD_LETTER_SINK } from './topology.ts';
import { RECENT_DEAD_LETTERS, type ActorCounters, type ActorOptions, type DeadLetterRecord } from './actor-options.ts';

export class ActorDeadLetters {
  /** Dead letters by reason of each epoch not yet delivered: counted once it is. */
  private readonly lettersAt = new Map<number, Map<string, number>>();
  private readonly ctx: LetterContext;

  constructor(
    private readonly o: ActorOptions,
    private readonly counters: ActorCounters,
    /** Appends a letter to the dead-letter sink's records of the open epoch. */
    private readonly append: (letter: DeadLetterRecord) => void,
  ) {
    this.ctx = { job: o.job, group: o.group ?? o.job, maxValueBytes: o.dlqMaxValueBytes ?? DLQ_MAX_VALUE_BYTES };
  }

  /** A record an operator refused; `source` is the input being processed, if known. */
  fromOperator(operatorId: string, source: string | undefined, value: unknown, reason: string, error: unknown, now: number): void {
    const topic = source === undefined ? undefined : this.o.inputs.find((i) => i.sourceId === source)?.topic;
    this.letter(buildLetter(this.ctx, { source, topic, partition: this.o.partition }, operatorId, reason, error, { value }, now));
  }

  /** A record that never reached the pipeline, with what locates it for a re-read. */
  fromInput(
    input: number,
    offset: number,
    key: Uint8Array | string | null | undefined,
    content: { value?: unknown; raw?: Uint8Array | null },
    reason: string,
    error: unknown,
    limit: LimitBreach | undefined,
    now: number,
  ): void {
    const inp = this.o.inputs[input];
    const origin = { source: inp.sourceId, topic: inp.topic, partition: this.o.partition, offset, key: key ?? null };
    this.letter(buildLetter(this.ctx, origin, `source-${inp.sourceId}`, reason, error, content, now, limit));
  }

  private letter(letter: DeadLetterRecord): void {
    this.append(letter);
    const recent = this.counters.recentDeadLetters;
    if (recent.push(letter) > RECENT_DEAD_LETTERS) recent.shift();
  }

  /** Counts an epoch's dead letters (the outbox keys them by reason), to add once the epoch is delivered. */
  note(epoch: number, entries: ReadonlyArray<{ sinkId: string; records: ReadonlyArray<{ key: string | null }> }>): void {
    for (const e of entries) {
      if (e.sinkId !== DEAD_LETTER_SINK || e.records.length === 0) continue;
      const m = this.lettersAt.get(epoch) ?? new Map<string, number>();
      for (const r of e.records) m.set(r.key ?? '?', (m.get(r.key ?? '?') ?? 0) + 1);
      this.lettersAt.set(epoch, m);
    }
  }

  /** Every epoch up to `epoch` is delivered: its dead letters count. */
  delivered(epoch: number): void {
    for (const [e, m] of [...this.lettersAt]) {
      if (e > epoch) continue;
      for (const [reason, n] of m) this.counters.deadLetters.set(reason, (this.counters.deadLetters.get(reason) ?? 0) + n);
      this.lettersAt.delete(e);
    }
  }
}

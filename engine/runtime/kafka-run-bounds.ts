/**
 * The end offsets of a bounded run (`--until end`), taken for every input
 * topic partition before the consumer starts, and which 'topic:partition's
 * were read to theirs. In kafka-input.ts: a topic partition whose position
 * reaches its bound (records handed over, or transaction markers fetched
 * past it) is paused for good, records at or past the bound are not handed
 * over, and the worker is told (`end-input`, after the last batch), so the
 * actor's event time for that input goes to the end.
 */
import { createAdmin } from '../kafka/admin.ts';
import type { KafkaBatch, KafkaClientConfig } from '../kafka/types.ts';

export class RunBounds {
  private readonly ended = new Set<string>();

  private constructor(private readonly ends: Map<string, number>) {}

  static async take(cfg: KafkaClientConfig, topics: readonly string[]): Promise<RunBounds> {
    const admin = createAdmin(cfg);
    try {
      const ends = new Map<string, number>();
      for (const t of topics) for (const [p, end] of await admin.topicEndOffsets(t)) ends.set(`${t}:${p}`, end);
      return new RunBounds(ends);
    } finally {
      await admin.close();
    }
  }

  /** The end offset of 'topic:partition' when the run started. */
  of(key: string): number {
    return this.ends.get(key) ?? 0;
  }

  /** How many of the batch's records lie before the bound: records at or past it came after the run started. */
  clip(b: KafkaBatch, key: string): number {
    const bound = this.of(key);
    let n = b.length;
    while (n > 0 && b.offset(n - 1) >= bound) n--;
    return n;
  }

  isEnded(key: string): boolean {
    return this.ended.has(key);
  }

  /** Marks 'topic:partition' read to its bound; false when it already was. */
  end(key: string): boolean {
    if (this.ended.has(key)) return false;
    this.ended.add(key);
    return true;
  }

  /** A new actor for the partition: it is told again about inputs at their bound. */
  reopen(key: string): void {
    this.ended.delete(key);
  }
}

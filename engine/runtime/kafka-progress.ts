/**
 * What a Kafka input reports of its progress, per "topic:partition": the
 * group offsets it commits and the lag it shows. Reporting only: the
 * actor's LMDB position is the truth, and group offsets are never read back
 * as positions when a checkpoint exists.
 *
 * Group offsets are committed only after an epoch's output is delivered.
 * When everything handed over is delivered, progress is reported up to the
 * fetch position: a topic written in transactions (every sluice Kafka sink)
 * ends in a commit marker no record carries, and lag would otherwise stay
 * at 1 per partition.
 */
import type { TopicPartitionOffset } from '../kafka/types.ts';

export class KafkaProgress {
  private readonly toCommit = new Map<string, TopicPartitionOffset>();
  /** Next offset whose output is delivered (what the group commit reports). */
  private readonly deliveredAt = new Map<string, number>();
  /** The offset after the last record handed to the actor. */
  private readonly sentEnd = new Map<string, number>();
  /** The offset after the last fetch (past transaction markers). */
  private readonly fetchedEnd = new Map<string, number>();
  /** End offsets polled by the input's admin client. */
  private readonly ends = new Map<string, number>();

  /** A partition was assigned; its actor's checkpointed position is `pos`. */
  assigned(key: string, pos: number): void {
    this.deliveredAt.set(key, pos);
    this.sentEnd.set(key, pos);
    this.fetchedEnd.delete(key);
  }

  /** Records up to `end` (exclusive) were handed to the actor, from a fetch that reached `nextOffset`. */
  handedOver(key: string, end: number, nextOffset: number): void {
    this.sentEnd.set(key, end);
    if (nextOffset > (this.fetchedEnd.get(key) ?? 0)) this.fetchedEnd.set(key, nextOffset);
  }

  /** The actor delivered an epoch whose next offset to read of this input is `offset`. */
  delivered(key: string, topic: string, partition: number, offset: number): void {
    if (offset > 0 && offset >= (this.deliveredAt.get(key) ?? 0)) {
      this.toCommit.set(key, { topic, partition, offset });
      this.deliveredAt.set(key, offset);
    }
    this.passMarkers(key, topic, partition);
  }

  /** A fetch held only transaction markers; the partition's position moved to `next`. */
  markers(key: string, next: number): void {
    if (next <= (this.fetchedEnd.get(key) ?? 0)) return;
    this.fetchedEnd.set(key, next);
    const [topic, p] = [key.slice(0, key.lastIndexOf(':')), Number(key.slice(key.lastIndexOf(':') + 1))];
    this.passMarkers(key, topic, p);
  }

  /** Everything handed to the actor is delivered: report progress up to the fetch position. */
  private passMarkers(key: string, topic: string, partition: number): void {
    const at = this.deliveredAt.get(key);
    const fetched = this.fetchedEnd.get(key);
    if (at === undefined || fetched === undefined || at !== this.sentEnd.get(key) || fetched <= at) return;
    this.deliveredAt.set(key, fetched);
    this.toCommit.set(key, { topic, partition, offset: fetched });
  }

  /** The offsets to commit since the last call. */
  take(): TopicPartitionOffset[] {
    const list = [...this.toCommit.values()];
    this.toCommit.clear();
    return list;
  }

  noteEnd(key: string, end: number): void {
    this.ends.set(key, end);
  }

  /**
   * Consumer lag per owned partition: records in Kafka whose output is not
   * delivered yet (end offset minus the delivered position, which is what the
   * group commit reports, as Kafka's own tools compute it). The consumer only
   * learns a high watermark from its fetches (`fromConsumer`), so while a
   * partition is paused (backpressure) its figure would go stale; the polled
   * end offsets keep lag true then, which is when it matters most.
   */
  lag(fromConsumer: Map<string, number>, owned: (partition: number) => boolean): Map<string, number> {
    const out = fromConsumer;
    for (const [key, end] of this.ends) {
      const at = this.deliveredAt.get(key);
      const [, p] = key.split(':');
      if (at === undefined || !owned(Number(p))) continue;
      out.set(key, Math.max(out.get(key) ?? 0, end - at));
    }
    return out;
  }
}

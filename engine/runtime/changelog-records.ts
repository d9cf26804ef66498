/**
 * An epoch's changelog as the Kafka records of its transaction, made only as
 * the producer builds each request (LazyRecords, engine/kafka/types.ts).
 *
 * A checkpoint's changelog waits for its transaction as its packs: about
 * 100 B a change (changelog-pack.ts). Made into records at prepare(), each
 * change was an object with two Buffer views, about 250 B of heap, alive
 * until its transaction committed, seconds later in a catch-up: in the 2 M
 * order catch-up one worker held 155 k of them, promoted to the old
 * generation. Here the records of one request (at most ~900 KiB of wire
 * bytes) exist at a time. Iterating again (a retried transaction) makes
 * them again from the same packs.
 */
import type { SinkRecord } from '../contracts/sinks.ts';
import type { LazyRecords, ProducerRecord } from '../kafka/types.ts';
import { encodeChangelogKey } from './changelog-key.ts';
import { forEachPacked, type ChangelogPack } from './changelog-pack.ts';
import type { ChangelogEntry } from './changelog.ts';

/** Per-record overhead of estimateRecordBytes (produce-batches.ts), for the packs' estimate. */
const RECORD_OVERHEAD = 24;

export interface ChangelogTopics {
  /** The changelog topic of an operator. */
  changes(operator: string): string;
  /** The checkpoint markers' topic. */
  markers: string;
}

export class ChangelogRecords implements LazyRecords {
  readonly bytes: number;

  constructor(
    private readonly entries: readonly SinkRecord[],
    private readonly partition: number,
    private readonly topics: ChangelogTopics,
  ) {
    let bytes = 0;
    for (const r of entries) {
      const e = r.value as ChangelogEntry;
      // Packs: their bytes hold each change's key and value plus 10 B of lengths, close enough.
      bytes += 'p' in e ? e.b.length + e.n * RECORD_OVERHEAD : RECORD_OVERHEAD + 256;
    }
    this.bytes = bytes;
  }

  *records(): Generator<ProducerRecord> {
    const partition = this.partition;
    for (const r of this.entries) {
      const e = r.value as ChangelogEntry;
      if ('p' in e) {
        yield* this.unpack(e);
      } else if ('m' in e) {
        yield { topic: this.topics.markers, partition, key: `p${partition}`, value: JSON.stringify(e.m) };
      } else if ('c' in e) {
        // The value is the store's encoding as it stands (the producer copies what it sends).
        yield { topic: this.topics.changes(e.o), partition, key: e.c, value: e.v === null || Buffer.isBuffer(e.v) ? e.v : Buffer.from(e.v) };
      } else {
        const op = String((e.k as unknown[])[1]);
        yield { topic: this.topics.changes(op), partition, key: encodeChangelogKey(e.d, e.k), value: e.v === null ? null : Buffer.from(e.v) };
      }
    }
  }

  /** One pack's records (a pack is at most 64 KiB, so a bounded array). */
  private unpack(pack: ChangelogPack): ProducerRecord[] {
    const topics = pack.p.map((op) => this.topics.changes(op));
    const out: ProducerRecord[] = [];
    const partition = this.partition;
    // The key and value are views of the pack (the producer copies what it sends).
    forEachPacked(pack, (op, key, value) => void out.push({ topic: topics[op], partition, key, value }));
    return out;
  }
}

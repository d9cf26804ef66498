/**
 * A fetched batch of one partition, read in place from kafkajs's messages:
 * offsets, timestamps (as the numbers the decoder kept: kafkajs-fast-decode.ts),
 * keys and values by index, with no object made per record. The engine's input copies them straight into the wire format for
 * its workers (engine/runtime/record-batch.ts); `records` converts them to
 * KafkaRecord objects (records.ts) only for a caller that asks.
 */
import type { KafkaMessage } from 'kafkajs';
import { offsetOf, timestampOf } from './kafkajs-fast-decode.ts';
import { toKafkaRecord } from './records.ts';
import type { KafkaBatch, KafkaRecord } from './types.ts';

export class FetchedBatch implements KafkaBatch {
  private converted: KafkaRecord[] | undefined;

  /** `messages` from index `first` on: the ones at or above the partition's position. */
  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly messages: readonly KafkaMessage[],
    private readonly first: number,
    readonly highWatermark: number,
    readonly nextOffset: number,
    readonly readEnd: number = highWatermark,
  ) {}

  get length(): number {
    return this.messages.length - this.first;
  }

  offset(i: number): number {
    return offsetOf(this.messages[this.first + i]);
  }

  timestamp(i: number): number {
    return timestampOf(this.messages[this.first + i]);
  }

  key(i: number): Buffer | null {
    return this.messages[this.first + i].key ?? null;
  }

  value(i: number): Buffer | null {
    return this.messages[this.first + i].value ?? null;
  }

  get records(): KafkaRecord[] {
    return (this.converted ??= this.messages.slice(this.first).map((m) => toKafkaRecord(this.topic, this.partition, m)));
  }
}

/** The index of the first of `messages` (in offset order) at or above `position`. */
export function firstAtOrAbove(messages: readonly KafkaMessage[], position: number): number {
  let i = 0;
  while (i < messages.length && offsetOf(messages[i]) < position) i++;
  return i;
}

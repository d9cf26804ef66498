/**
 * What the test driver fed one partition actor, in order: batches of
 * records with their offsets, event-time heartbeats, and ends of input.
 * It plays the part of the Kafka log (or any replayable source): after a
 * crash, the restarted actor is fed the log again from the start, and the
 * actor itself skips what its checkpoint already covers (records below its
 * committed positions), exactly as with a Kafka fetch that replays.
 */
import type { SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { InputGate } from '../runtime/input-gate.ts';
import type { PartitionActor } from '../runtime/partition-actor.ts';
import type { Codec } from '../sources/codecs.ts';

/** One record as piped in, before decoding and validation. */
export interface LoggedRecord {
  readonly offset: number;
  /** The decoded value, or the raw bytes when `raw` (decoded by the source's codec on the way in). */
  readonly value: unknown;
  readonly raw: boolean;
  /** The record's own timestamp (Kafka's): the event time unless the source has a `timestamp` extractor. */
  readonly time: number;
  readonly key: string | undefined;
}

export type LogEvent =
  | { readonly t: 'batch'; readonly input: number; readonly records: readonly LoggedRecord[] }
  | { readonly t: 'time'; readonly input: number; readonly time: number }
  | { readonly t: 'finish'; readonly input: number };

export interface InputBinding {
  readonly sourceId: string;
  readonly spec: SourceSpec;
  readonly codec: Codec | undefined;
}

/**
 * Feeds one batch the way a worker does (worker-host.ts onBatch): records
 * below the input's position are skipped, the rest pass the same InputGate
 * (input limits, decoding of raw bytes, `validate`, the event-time range;
 * a refused record is dead-lettered with its reason), the event time comes
 * from the source's extractor or the record's own timestamp, and the
 * position moves past every record of the batch.
 */
export function feedBatch(actor: PartitionActor, input: number, bind: InputBinding, records: readonly LoggedRecord[]): void {
  const values: unknown[] = [];
  const times: number[] = [];
  const offsets: number[] = [];
  const gate = new InputGate(actor, input, bind.spec, bind.codec);
  for (const r of records) {
    if (r.offset < actor.position(input)) continue;
    if (r.raw) {
      if (!bind.codec) throw new SluiceError(ErrorCodes.CONFIG, `test driver: source "${bind.sourceId}" has no codec to decode raw input (only Kafka sources do)`);
      const key = r.key === undefined ? null : Buffer.from(r.key);
      if (!gate.admitBytes(r.offset, key, r.value as Uint8Array | null, r.time)) continue;
    } else if (!gate.admitValue(r.offset, r.value, r.time)) continue;
    values.push(gate.value);
    times.push(gate.time);
    offsets.push(r.offset);
  }
  if (values.length > 0) actor.ingest(input, values, times, offsets);
  if (records.length > 0) actor.skipTo(input, records[records.length - 1].offset + 1);
}

/** Applies one logged event to an actor. */
export function replayEvent(actor: PartitionActor, bindings: readonly InputBinding[], e: LogEvent, bounds: readonly number[]): void {
  if (e.t === 'batch') feedBatch(actor, e.input, bindings[e.input], e.records);
  else if (e.t === 'time') actor.observeEventTime(e.input, e.time + bounds[e.input]);
  else actor.finishInput(e.input);
}

/**
 * What every record passes, in order, before it reaches user code or state:
 * the one gate of an actor's input, used by both input loops (Kafka batches
 * in worker-host.ts, embedded sources in embedded-pull.ts).
 *
 *   1. limits on the bytes (value size; for JSON, depth and string length,
 *      scanned before parsing, so an over-limit record is never parsed);
 *   2. decode (JSON with strict UTF-8: see sources/codecs.ts);
 *   3. limits on the decoded value (other codecs, embedded sources);
 *   4. the source's `validate`;
 *   5. the event time: at most maxEventTimeAheadMs ahead of the watermark
 *      or the wall clock, whichever is later, and at most
 *      maxEventTimeBehindMs behind the watermark, so a record dated 9999 is
 *      refused instead of held forever.
 *
 * Kafka batches of the built-in JSON codec take a faster road to the same
 * result (admitAt): the batch's bytes are one Buffer, and each record is
 * parsed from a string cut from it, with no Buffer, view or TextDecoder call
 * per record; its limits are bounded from that string (jsonTextWithin)
 * before it is parsed. Anything that road cannot decide exactly as
 * decodeWith would (bytes that are not UTF-8, a record near a limit, text
 * that does not parse) goes the general way, which decides it: the same
 * value, or the same reason and message.
 *
 * A record refused at any step is dead-lettered once, with its reason
 * (`limit_exceeded`, `decode_error`, `validation_failed`,
 * `event_time_out_of_range`), code SLUICE_DECODE, and for a limit the limit
 * it broke. Nothing here throws.
 */
import type { SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { decodeWith, resolveCodec, type Codec } from '../sources/codecs.ts';
import { breachMessage, checkValue, jsonTextWithin, resolveLimits, scanJson, type LimitBreach, type ResolvedLimits } from './input-limits.ts';
import type { PartitionActor } from './partition-actor.ts';
import { keyAt, valueAt, type RecordBatchWire } from './record-batch.ts';

/** Stand for the key and value of the record admitAt() is looking at: cut from the batch only for a dead letter. */
const BATCH_KEY = new Uint8Array(0);
const BATCH_VALUE = new Uint8Array(0);

export class InputGate {
  readonly limits: ResolvedLimits;
  private readonly json: boolean;
  /** The built-in JSON codec (not a custom codec that calls itself 'json'): admitAt may parse from the batch's text. */
  private readonly builtinJson: boolean;
  /** The admitted record's value and event time (set when admit* returns true): no allocation per record. */
  value: unknown = undefined;
  time = 0;
  /** The batch and index of the record admitAt() is looking at. */
  private wire: RecordBatchWire | undefined;
  private at = 0;
  /** The wire's bytes as one Buffer (no copy), when the built-in JSON codec reads them. */
  private text: Buffer | undefined;

  constructor(
    private readonly actor: PartitionActor,
    private readonly input: number,
    private readonly spec: SourceSpec,
    private readonly codec?: Codec,
  ) {
    this.limits = resolveLimits(spec.limits);
    this.json = codec?.name === 'json';
    this.builtinJson = codec === resolveCodec('json');
  }

  /** Record `i` of a Kafka batch; its key and value are cut from the batch only if the record is refused. */
  admitAt(w: RecordBatchWire, i: number): boolean {
    if (w !== this.wire) this.beginBatch(w);
    this.at = i;
    const offset = w.meta[2 * i];
    const time = w.meta[2 * i + 1];
    const text = this.text;
    const start = w.pos[4 * i];
    if (text === undefined || start < 0) return this.admitBytes(offset, BATCH_KEY, valueAt(w, i), time);
    const end = w.pos[4 * i + 1];
    const l = this.limits;
    const n = end - start;
    if (n > l.maxValueBytes) return this.admitBytes(offset, BATCH_KEY, valueAt(w, i), time);
    const s = text.toString(undefined, start, end);
    // Bytes that are not UTF-8 became U+FFFD: the general road (TextDecoder, fatal) decides, as it
    // does for a U+FFFD that was in the text. A leading byte-order mark, which TextDecoder drops,
    // makes JSON.parse fail below, and goes the same way.
    if (s.indexOf('\uFFFD') !== -1) return this.admitBytes(offset, BATCH_KEY, valueAt(w, i), time);
    if ((n > l.maxDepth || n > l.maxStringLength) && !jsonTextWithin(s, n, l.maxDepth, l.maxStringLength)) return this.admitBytes(offset, BATCH_KEY, valueAt(w, i), time);
    let v: unknown;
    try {
      v = JSON.parse(s);
    } catch {
      // decodeWith's error and message: the general road decodes it again and refuses it.
      return this.admitBytes(offset, BATCH_KEY, valueAt(w, i), time);
    }
    return this.admitDecoded(offset, BATCH_KEY, BATCH_VALUE, v, time);
  }

  private beginBatch(w: RecordBatchWire): void {
    this.wire = w;
    const b = w.bytes;
    this.text = this.builtinJson ? Buffer.from(b.buffer, b.byteOffset, b.byteLength) : undefined;
  }

  /** The batch is done: the gate holds no reference to it. */
  endBatch(): void {
    this.wire = undefined;
    this.text = undefined;
  }

  private keyOf(key: Uint8Array | null): Uint8Array | null {
    return key === BATCH_KEY ? keyAt(this.wire!, this.at) : key;
  }

  private rawOf(bytes: Uint8Array | null | undefined): Uint8Array | null | undefined {
    return bytes === BATCH_VALUE ? valueAt(this.wire!, this.at) : bytes;
  }

  /** A record as bytes (Kafka). `recordTime` is its Kafka timestamp, the event time without an extractor. */
  admitBytes(offset: number, key: Uint8Array | null, bytes: Uint8Array | null, recordTime: number): boolean {
    const l = this.limits;
    let v: unknown = null;
    if (bytes !== null) {
      if (bytes.length > l.maxValueBytes) return this.overLimit(offset, key, bytes, { limit: 'maxValueBytes', max: l.maxValueBytes, actual: bytes.length });
      if (this.json) {
        const b = scanJson(bytes, l.maxDepth, l.maxStringLength);
        if (b) return this.overLimit(offset, key, bytes, b);
      }
      try {
        v = decodeWith(this.codec!, bytes);
      } catch (err) {
        this.actor.deadLetterInput(this.input, offset, this.keyOf(key), { raw: bytes }, 'decode_error', err);
        return false;
      }
      if (!this.json) {
        const b = checkValue(v, l.maxDepth, l.maxStringLength);
        if (b) return this.overLimit(offset, key, bytes, b);
      }
    }
    return this.admitDecoded(offset, key, bytes, v, recordTime);
  }

  /**
   * A decoded record (generator, file, custom source). `time` is its time
   * without an extractor, or, with `timed`, its event time already (the
   * generator and file readers apply the extractor themselves).
   */
  admitValue(offset: number, v: unknown, time: number, timed = false): boolean {
    const b = checkValue(v, this.limits.maxDepth, this.limits.maxStringLength);
    if (b) {
      this.actor.deadLetterInput(this.input, offset, null, { value: typeof v === 'string' ? v : undefined }, 'limit_exceeded', new SluiceError(ErrorCodes.DECODE, breachMessage(b)), b);
      return false;
    }
    return this.admitDecoded(offset, null, undefined, v, time, timed);
  }

  /** A record that could not be decoded at all (a file source's broken line). */
  refuseUndecodable(offset: number, raw: string, err: unknown): void {
    const e = err instanceof SluiceError ? err : new SluiceError(ErrorCodes.DECODE, (err as Error).message ?? String(err), { cause: err });
    this.actor.deadLetterInput(this.input, offset, null, { raw: Buffer.from(raw) }, 'decode_error', e);
  }

  private overLimit(offset: number, key: Uint8Array | null, bytes: Uint8Array, b: LimitBreach): false {
    this.actor.deadLetterInput(this.input, offset, this.keyOf(key), { raw: bytes }, 'limit_exceeded', new SluiceError(ErrorCodes.DECODE, breachMessage(b)), b);
    return false;
  }

  private admitDecoded(offset: number, key: Uint8Array | null, bytes: Uint8Array | null | undefined, v: unknown, fallbackTime: number, timed = false): boolean {
    const spec = this.spec;
    if (spec.validate) {
      let reason: string | undefined;
      try {
        reason = spec.validate(v as never);
      } catch (err) {
        reason = `validator threw: ${(err as Error).message}`;
      }
      if (reason !== undefined) {
        this.actor.deadLetterInput(this.input, offset, this.keyOf(key), { value: v, raw: this.rawOf(bytes) ?? undefined }, 'validation_failed', new SluiceError(ErrorCodes.DECODE, reason));
        return false;
      }
    }
    const t = spec.timestamp && !timed ? eventTime(spec, v, fallbackTime) : fallbackTime;
    const wm = this.actor.currentWatermark();
    const l = this.limits;
    // Ahead of the watermark, or of the wall clock when that is later: a replay of old data
    // (or a recording that spans months) is never ahead of now, and a record dated 9999 always is.
    // The clock is read only when the watermark does not settle it (a record within the bound of
    // the watermark is within it of any later reference): not once per record.
    let ref = wm;
    let breach: LimitBreach | undefined;
    if (!(Number.isFinite(wm) && t <= wm + l.maxEventTimeAheadMs)) {
      const now = Date.now();
      ref = Number.isFinite(wm) && wm > now ? wm : now;
      if (t > ref + l.maxEventTimeAheadMs) breach = { limit: 'maxEventTimeAheadMs', max: l.maxEventTimeAheadMs, actual: t - ref };
    }
    if (!breach && Number.isFinite(wm) && t < wm - l.maxEventTimeBehindMs) breach = { limit: 'maxEventTimeBehindMs', max: l.maxEventTimeBehindMs, actual: wm - t };
    if (breach) {
      const what = breach.limit === 'maxEventTimeAheadMs' && ref !== wm ? 'the wall clock' : `the watermark (${new Date(wm).toISOString()})`;
      const msg = `event time ${Number.isFinite(t) ? new Date(t).toISOString() : String(t)} is ${breach.actual} ms ${breach.limit === 'maxEventTimeAheadMs' ? 'ahead of' : 'behind'} ${what}; ${breach.limit} is ${breach.max}`;
      this.actor.deadLetterInput(this.input, offset, this.keyOf(key), { value: v, raw: this.rawOf(bytes) ?? undefined }, 'event_time_out_of_range', new SluiceError(ErrorCodes.DECODE, msg), breach);
      return false;
    }
    this.value = v;
    this.time = t;
    return true;
  }
}

/** The source's event time for a record, or `fallback` when the extractor fails or returns junk. */
export function eventTime(spec: SourceSpec, v: unknown, fallback: number): number {
  try {
    const t = spec.timestamp!(v as never);
    return Number.isFinite(t) ? t : fallback;
  } catch {
    return fallback;
  }
}

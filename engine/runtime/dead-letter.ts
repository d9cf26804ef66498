/**
 * Dead letters that always fit. A letter goes through the actor's outbox and
 * its epoch's Kafka transaction, so a letter the broker refuses (over
 * message.max.bytes) or the state codec cannot encode (nested too deep)
 * would fail the epoch, and with it the job, on every restart. So a letter
 * never carries anything unbounded:
 *
 *   - a record's bytes become `raw`: their length, their SHA-256, and a
 *     prefix cut so its JSON text is at most `maxValueBytes` (text when the
 *     bytes are valid UTF-8, else base64);
 *   - a decoded value is kept as `value` only when it is shallow and its
 *     JSON text fits; otherwise it is summarised as `raw` of that text;
 *   - the error message, the reason and the key are cut too.
 *
 * The letter (JSON on the dead-letter topic, one record each):
 *
 *   { job, group, partition, operator, source, topic, offset, key,
 *     reason, code, error: { code, name, message }, limit?, at, time,
 *     value? | raw?: { bytes, sha256, truncated, text? | base64? } }
 *
 * `topic`, `partition`, `offset` and `key` locate the record for a re-read.
 * Records refused on input always have all four (offset and key are null for
 * sources that have none). A letter an operator sends names the source of
 * the batch it was handling when there is one, and offset null: records
 * inside a pipeline carry no offsets; `value` is then the record itself.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { ErrorCodes, SluiceError, serializeError } from '../errors.ts';
import { checkValue, type LimitBreach } from './input-limits.ts';

/** Default for the `dlqMaxValueBytes` setting. */
export const DLQ_MAX_VALUE_BYTES = 65_536;
const MAX_MESSAGE = 2_048;
const MAX_KEY = 1_024;
/** Deeper values are summarised as text: the letter itself must encode without deep recursion. */
const MAX_LETTER_DEPTH = 64;

export interface RawSummary {
  bytes: number;
  sha256: string;
  truncated: boolean;
  text?: string;
  base64?: string;
}

export interface LetterOrigin {
  source?: string;
  topic?: string;
  partition: number;
  offset?: number;
  key?: Uint8Array | string | null;
}

/** One dead letter, as written to the dead-letter sink (JSON). */
export interface DeadLetterRecord {
  job: string;
  group: string;
  partition: number;
  operator: string;
  source: string | null;
  topic: string | null;
  offset: number | null;
  key: string | null;
  reason: string;
  code: string;
  error?: { code: string; name: string; message: string };
  limit?: { name: string; max: number; actual: number };
  /** ms since the epoch, and the same as ISO 8601 */
  at: number;
  time: string;
  value?: unknown;
  raw?: RawSummary;
}

export interface LetterContext {
  job: string;
  group: string;
  maxValueBytes: number;
}

/** The longest prefix of `s` whose JSON text is at most `max` bytes, not splitting a surrogate pair. */
export function jsonPrefix(s: string, max: number): string {
  let p = s.length > max ? s.slice(0, max) : s;
  for (;;) {
    const size = Buffer.byteLength(JSON.stringify(p)) - 2;
    if (size <= max) break;
    p = p.slice(0, Math.max(0, Math.floor((p.length * max) / size) - 1));
  }
  const last = p.charCodeAt(p.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) p = p.slice(0, -1);
  return p;
}

/** Length, hash and a bounded prefix of a record's bytes. */
export function summarizeBytes(b: Uint8Array, max: number): RawSummary {
  const sha256 = createHash('sha256').update(b).digest('hex');
  if (isUtf8(b)) {
    const text = Buffer.from(b.buffer, b.byteOffset, Math.min(b.length, max)).toString('utf8');
    const full = b.length <= max;
    const cut = jsonPrefix(full ? text : text.replace(/\uFFFD$/, ''), max);
    return { bytes: b.length, sha256, truncated: !full || cut.length < text.length, text: cut };
  }
  // base64 is 4/3 of its input and needs no escaping.
  const n = Math.min(b.length, Math.floor((max * 3) / 4));
  return { bytes: b.length, sha256, truncated: n < b.length, base64: Buffer.from(b.buffer, b.byteOffset, n).toString('base64') };
}

/** A decoded value as it may travel in a letter: itself when shallow and small, else a summary of its JSON text. */
export function fitValue(v: unknown, max: number): { value?: unknown; raw?: RawSummary } {
  if (v === undefined) return {};
  if (v instanceof Uint8Array) return { raw: summarizeBytes(v, max) };
  const deep = checkValue(v, MAX_LETTER_DEPTH, Infinity);
  let text: string | undefined;
  try {
    text = JSON.stringify(v);
  } catch (err) {
    text = `[not JSON: ${(err as Error).message}]`;
  }
  if (text === undefined) return {};
  if (deep === undefined && Buffer.byteLength(text) <= max) return { value: v };
  return { raw: summarizeBytes(Buffer.from(text), max) };
}

function cut(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}… (${s.length} chars)`;
}

function keyText(k: Uint8Array | string | null | undefined): string | null {
  if (k === undefined || k === null) return null;
  if (typeof k === 'string') return cut(k, MAX_KEY);
  return isUtf8(k) ? cut(Buffer.from(k.buffer, k.byteOffset, k.length).toString('utf8'), MAX_KEY) : `base64:${Buffer.from(k.buffer, k.byteOffset, Math.min(k.length, MAX_KEY)).toString('base64')}`;
}

/**
 * The letter for `reason`. Records refused on input pass `raw` (their bytes)
 * and their error is a SluiceError with code SLUICE_DECODE; an error thrown
 * by user code (a plain Error) gets SLUICE_PROCESS.
 */
export function buildLetter(
  ctx: LetterContext,
  origin: LetterOrigin,
  operator: string,
  reason: string,
  error: unknown,
  content: { value?: unknown; raw?: Uint8Array | null },
  now: number,
  limit?: LimitBreach,
): DeadLetterRecord {
  const e = error === undefined ? undefined : serializeError(error instanceof SluiceError || !(error instanceof Error) ? error : new SluiceError(ErrorCodes.PROCESS, error.message, { cause: error }));
  const code = e?.code ?? (origin.offset !== undefined ? ErrorCodes.DECODE : ErrorCodes.PROCESS);
  const letter: DeadLetterRecord = {
    job: ctx.job,
    group: ctx.group,
    partition: origin.partition,
    operator,
    source: origin.source ?? null,
    topic: origin.topic ?? null,
    offset: origin.offset ?? null,
    key: keyText(origin.key),
    reason: cut(reason, 200),
    code,
    error: e ? { code: e.code, name: e.name, message: cut(e.message, MAX_MESSAGE) } : undefined,
    at: now,
    time: new Date(now).toISOString(),
  };
  if (limit) letter.limit = { name: limit.limit, max: limit.max, actual: limit.actual };
  if (content.raw !== undefined && content.raw !== null) {
    const r = content.raw;
    if (r.length <= ctx.maxValueBytes && content.value !== undefined) {
      const fitted = fitValue(content.value, ctx.maxValueBytes);
      Object.assign(letter, fitted);
    } else letter.raw = summarizeBytes(r, ctx.maxValueBytes);
  } else if (content.raw === null) {
    letter.value = null;
  } else Object.assign(letter, fitValue(content.value, ctx.maxValueBytes));
  return letter;
}

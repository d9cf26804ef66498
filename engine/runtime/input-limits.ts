/**
 * Input limits (InputLimits in engine/contracts/sources.ts): the checks
 * themselves, with their defaults. Both run without recursion, so a record
 * nested 100,000 deep costs a loop, never the stack.
 *
 *   - scanJson: over a JSON value's bytes, BEFORE parsing: nesting depth and
 *     string length from the brackets and quotes outside/inside strings. A
 *     record over a limit is never parsed at all.
 *   - checkValue: over a decoded value (other codecs, embedded sources):
 *     nesting depth and string length, walking with an explicit stack.
 */
import type { InputLimits } from '../contracts/sources.ts';

export type ResolvedLimits = Required<InputLimits>;

export const INPUT_LIMIT_DEFAULTS: ResolvedLimits = {
  maxDepth: 64,
  maxValueBytes: 1_048_576,
  maxStringLength: 262_144,
  maxEventTimeAheadMs: 7 * 24 * 3_600_000,
  maxEventTimeBehindMs: Infinity,
};

export function resolveLimits(l: InputLimits | undefined): ResolvedLimits {
  return { ...INPUT_LIMIT_DEFAULTS, ...(l ?? {}) };
}

/** A broken limit: its name, its value, and what the record had (at least). */
export interface LimitBreach {
  limit: keyof InputLimits;
  max: number;
  actual: number;
}

export function breachMessage(b: LimitBreach): string {
  return `${b.limit} ${b.max} exceeded (${b.actual})`;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/**
 * Depth and string length of a JSON text, from its bytes. Only bytes that
 * could matter are looked at; a value shorter than both limits cannot break
 * either and is not scanned.
 */
export function scanJson(b: Uint8Array, maxDepth: number, maxString: number): LimitBreach | undefined {
  const n = b.length;
  if (n <= maxDepth && n <= maxString) return undefined;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = b[i++];
    if (c === QUOTE) {
      const start = i;
      while (i < n) {
        const d = b[i++];
        if (d === BACKSLASH) i++;
        else if (d === QUOTE) break;
      }
      const len = i - start - 1;
      if (len > maxString) return { limit: 'maxStringLength', max: maxString, actual: len };
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > maxDepth) return { limit: 'maxDepth', max: maxDepth, actual: depth };
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return undefined;
}

/**
 * True when a JSON text of `bytes` UTF-8 bytes, already decoded into `text`,
 * cannot break maxDepth or maxStringLength, so scanJson of its bytes would
 * find nothing: its depth is at most its count of '{' and '[' (those inside
 * strings too), and no string in it is as long as the whole. A bound, not a
 * measure: false means only "scan the bytes". It counts with String
 * indexOf, native and several times faster than scanJson's loop over every
 * byte, which was a third of the worker's cost of reading a JSON record
 * from Kafka (bench/notes/20-nexmark.md).
 */
export function jsonTextWithin(text: string, bytes: number, maxDepth: number, maxString: number): boolean {
  if (bytes > maxString) return false;
  let opens = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++opens > maxDepth) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++opens > maxDepth) return false;
  return true;
}

/**
 * Depth and string length of a decoded value, walked with an explicit stack
 * (no recursion). On the hot path for embedded sources: a flat record (the
 * common case) allocates nothing; the stack is made only for nested values.
 */
export function checkValue(v: unknown, maxDepth: number, maxString: number): LimitBreach | undefined {
  if (typeof v === 'string') return v.length > maxString ? { limit: 'maxStringLength', max: maxString, actual: v.length } : undefined;
  if (typeof v !== 'object' || v === null) return undefined;
  let stack: object[] | undefined;
  let depths: number[] | undefined;
  let cur = v as object;
  let d = 1;
  for (;;) {
    if (d > maxDepth) return { limit: 'maxDepth', max: maxDepth, actual: d };
    if (!ArrayBuffer.isView(cur)) {
      if (Array.isArray(cur)) {
        for (let i = 0; i < cur.length; i++) {
          const x: unknown = cur[i];
          if (typeof x === 'string') {
            if (x.length > maxString) return { limit: 'maxStringLength', max: maxString, actual: x.length };
          } else if (typeof x === 'object' && x !== null) {
            (stack ??= []).push(x);
            (depths ??= []).push(d + 1);
          }
        }
      } else {
        for (const k in cur) {
          const x = (cur as Record<string, unknown>)[k];
          if (typeof x === 'string') {
            if (x.length > maxString) return { limit: 'maxStringLength', max: maxString, actual: x.length };
          } else if (typeof x === 'object' && x !== null) {
            (stack ??= []).push(x);
            (depths ??= []).push(d + 1);
          }
        }
      }
    }
    if (stack === undefined || stack.length === 0) return undefined;
    cur = stack.pop()!;
    d = depths!.pop()!;
  }
}

/**
 * Value encoding for everything the state layer stores: state values, timer
 * payloads, checkpoint metadata, outbox batches and leases.
 *
 * Choice: msgpackr with `useRecords: false` (standard MessagePack maps, so any
 * MessagePack decoder can read a state dir). Measured with bench/codec.ts on
 * the 2-core Xeon, Node 20.20 (bench/results/2026-11-22-codec.json):
 *
 *   payload            @msgpack/msgpack      msgpackr useRecords:false
 *   8-field record     enc 1127  dec 708 ns  enc 390  dec 327 ns
 *   small int          enc   48  dec  99 ns  enc  76  dec  47 ns
 *   short string       enc   83  dec 167 ns  enc  94  dec  61 ns
 *
 * msgpackr is 2.2-2.9x faster on records, which dominate state and outbox
 * traffic; @msgpack/msgpack encodes scalars 10-30 ns faster but decodes them 2-2.7x
 * slower, and decodes happen on every cache miss while encodes happen once
 * per dirty key per checkpoint. msgpackr's record extension (its default) is
 * slower here (enc 604, dec 722 ns) because without a persisted shared
 * structure table every value carries its own record definition, and it
 * would tie the on-disk format to msgpackr.
 *
 * `copyBuffers: true` because reads decode straight out of lmdb-js's
 * `getBinaryFast` buffer, which is overwritten by the next read: a decoded
 * Uint8Array must not be a view into it.
 *
 * Semantics worth knowing: JS Maps decode as plain objects, Uint8Arrays as
 * Buffers, integers beyond 2^53 lose precision like any JS number, and
 * `undefined` object properties survive. Values must be MessagePack-encodable
 * (no functions, no class identity).
 */
import { Packr } from 'msgpackr';
import { ErrorCodes, SluiceError } from '../engine/errors.ts';

const packr = new Packr({ useRecords: false, copyBuffers: true });

/**
 * msgpackr encodes recursively: a value nested deeper than the stack allows
 * would fail with "Maximum call stack size exceeded" in the middle of a
 * checkpoint. Values are checked first, recursing at most one level past this
 * bound (far above the input limit, engine/runtime/input-limits.ts, which
 * keeps records shallower than 64).
 */
export const MAX_ENCODE_DEPTH = 1_000;

/**
 * The nesting depth of `value` if it exceeds `max`, else 0. Recursive but
 * bounded: it never goes deeper than max + 1 frames (far fewer than msgpackr
 * itself then uses), and it allocates nothing, which matters because every
 * state value and outbox batch passes here at each checkpoint (an explicit
 * stack of two arrays per call was 1-3 % of a worker's CPU).
 */
export function depthOver(value: unknown, max: number): number {
  return typeof value === 'object' && value !== null ? over(value, 1, max) : 0;
}

function over(cur: object, d: number, max: number): number {
  if (d > max) return d;
  if (ArrayBuffer.isView(cur)) return 0;
  if (Array.isArray(cur)) {
    for (let i = 0; i < cur.length; i++) {
      const x: unknown = cur[i];
      if (typeof x === 'object' && x !== null) {
        const r = over(x, d + 1, max);
        if (r > 0) return r;
      }
    }
  } else {
    for (const k in cur) {
      const x = (cur as Record<string, unknown>)[k];
      if (typeof x === 'object' && x !== null) {
        const r = over(x, d + 1, max);
        if (r > 0) return r;
      }
    }
  }
  return 0;
}

/**
 * Encodes a value. The result is a view into msgpackr's reusable buffer that
 * stays valid (msgpackr moves on to fresh space for the next pack), but it
 * should be written out, not kept around in large numbers. A value nested
 * deeper than MAX_ENCODE_DEPTH is refused with a SluiceError (SLUICE_STATE).
 *
 * The depth walk runs only where a value could be that deep: each nesting
 * level encodes to at least one byte, so an encoding of at most
 * MAX_ENCODE_DEPTH bytes (most state values) has no deeper value. Packing
 * first is safe: a value too deep for the stack throws a RangeError, after
 * which msgpackr starts its next pack afresh. (The walk on every value was
 * 2-3 % of a worker in the orders/payments job.)
 */
export function encodeValue(value: unknown): Buffer {
  let buf: Buffer;
  try {
    buf = packr.pack(value);
  } catch (err) {
    if (err instanceof RangeError && depthOver(value, MAX_ENCODE_DEPTH) > 0) throw tooDeep();
    throw err;
  }
  if (buf.length > MAX_ENCODE_DEPTH && depthOver(value, MAX_ENCODE_DEPTH) > 0) throw tooDeep();
  return buf;
}

function tooDeep(): SluiceError {
  return new SluiceError(ErrorCodes.STATE, `value nested deeper than ${MAX_ENCODE_DEPTH} levels: not encoded`);
}

/** Decodes a value; safe to call on a volatile buffer (see `copyBuffers`). */
export function decodeValue<T = unknown>(bytes: Uint8Array): T {
  return packr.unpack(bytes) as T;
}

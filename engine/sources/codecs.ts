/**
 * Value codecs for sources and sinks. msgpack goes through msgpackr (see
 * state/codec.ts for the measurement that chose it over @msgpack/msgpack).
 */
import { Packr } from 'msgpackr';
import type { ValueCodec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

export interface Codec {
  readonly name: string;
  decode(buf: Uint8Array): unknown;
  encode(value: unknown): Uint8Array;
}

const packr = new Packr({ useRecords: false });
// fatal: bytes that are not UTF-8 are an error, not U+FFFD. Replacing them
// would make different corrupted ids equal, and hide the corruption.
const utf8 = new TextDecoder('utf-8', { fatal: true });

const json: Codec = {
  name: 'json',
  decode: (b) => JSON.parse(utf8.decode(b)),
  encode: (v) => Buffer.from(JSON.stringify(v)),
};
const msgpack: Codec = { name: 'msgpack', decode: (b) => packr.unpack(b), encode: (v) => packr.pack(v) };
const string: Codec = { name: 'string', decode: (b) => utf8.decode(b), encode: (v) => Buffer.from(String(v)) };
const buffer: Codec = {
  name: 'buffer',
  decode: (b) => Buffer.from(b),
  encode: (v) => {
    if (v instanceof Uint8Array) return v;
    throw new SluiceError(ErrorCodes.CONFIG, 'buffer codec: value is not a Uint8Array');
  },
};

/**
 * Decodes with `codec`; whatever it throws (bad JSON, bad UTF-8, bad
 * msgpack) becomes a SluiceError with code SLUICE_DECODE: the input is at
 * fault, not sluice.
 */
export function decodeWith(codec: Codec, b: Uint8Array): unknown {
  try {
    return codec.decode(b);
  } catch (err) {
    if (err instanceof SluiceError) throw err;
    throw new SluiceError(ErrorCodes.DECODE, `${codec.name}: ${(err as Error).message}`, { cause: err });
  }
}

export function resolveCodec(c: ValueCodec): Codec {
  if (typeof c === 'object') return c;
  switch (c) {
    case 'json':
      return json;
    case 'msgpack':
      return msgpack;
    case 'string':
      return string;
    case 'buffer':
      return buffer;
    default:
      throw new SluiceError(ErrorCodes.CONFIG, `unknown codec "${String(c)}" (json, msgpack, string, buffer, or an object with encode/decode)`);
  }
}

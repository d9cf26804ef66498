import { describe, it, expect } from 'vitest';
import { decode } from '@msgpack/msgpack';
import { encodeValue, decodeValue, MAX_ENCODE_DEPTH } from '../../state/codec.ts';

function nested(levels: number, leaf: unknown = 0): unknown {
  let v = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

describe('state codec', () => {
  it('round-trips the values operators keep in state', () => {
    const values = [
      0,
      -1,
      2 ** 40,
      1.5,
      'user-4821',
      '',
      null,
      true,
      [1, 'a', null],
      { orderId: 'ord-1', amount: 129.95, items: 3, ts: 1718000000123, tags: ['x'], nested: { a: 1 } },
    ];
    for (const v of values) expect(decodeValue(encodeValue(v))).toEqual(v);
  });

  it('decodes binary values as copies, safe from reuse of the source buffer', () => {
    const bytes = Buffer.from(encodeValue({ b: new Uint8Array([1, 2, 3]) }));
    const decoded = decodeValue<{ b: Uint8Array }>(bytes);
    bytes.fill(0);
    expect([...decoded.b]).toEqual([1, 2, 3]);
  });

  it('writes standard MessagePack that other decoders read (no msgpackr record extension)', () => {
    const value = { a: 1, s: 'x', list: [1.5, null] };
    expect(decode(encodeValue(value))).toEqual(value);
  });

  it('refuses values deeper than its bound however they fail, and encodes correctly afterwards', () => {
    // Deep enough to pass the bound only (its walk runs, as the encoding is over the bound in bytes).
    expect(() => encodeValue(nested(MAX_ENCODE_DEPTH + 1))).toThrow(/nested deeper than 1000/);
    expect(decodeValue(encodeValue(nested(MAX_ENCODE_DEPTH - 1)))).toEqual(nested(MAX_ENCODE_DEPTH - 1));
    // Deep enough to overflow msgpackr's recursion: its RangeError becomes the same refusal.
    expect(() => encodeValue(nested(200_000))).toThrow(/nested deeper than 1000/);
    // The failed packs left msgpackr's buffer usable.
    const v = { order_id: 'o-1', items: [1, 2, { x: 'y'.repeat(3000) }], left: nested(10, 'leaf') };
    expect(decodeValue(encodeValue(v))).toEqual(v);
    // A large but shallow value is encoded (its walk runs and finds nothing).
    const wide = Array.from({ length: 5000 }, (_, i) => ({ i, s: 'abc' }));
    expect(decodeValue(encodeValue(wide))).toEqual(wide);
  });
});

import { describe, it, expect } from 'vitest';
import { decode } from '@msgpack/msgpack';
import { encodeValue, decodeValue } from '../../state/codec.ts';

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
});

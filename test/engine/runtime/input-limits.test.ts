import { describe, expect, it } from 'vitest';
import { checkValue, scanJson } from '../../../engine/runtime/input-limits.ts';
import { fitValue, jsonPrefix, summarizeBytes } from '../../../engine/runtime/dead-letter.ts';
import { depthOver, encodeValue } from '../../../state/codec.ts';
import { createHash } from 'node:crypto';

const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);

describe('input limits', () => {
  it('scanJson measures depth and strings from the bytes, ignoring brackets and escaped quotes inside strings', () => {
    expect(scanJson(Buffer.from(deep(64)), 64, 1000)).toBeUndefined();
    expect(scanJson(Buffer.from(deep(65)), 64, 1000)).toEqual({ limit: 'maxDepth', max: 64, actual: 65 });
    expect(scanJson(Buffer.from(deep(100_000)), 64, 1000)).toMatchObject({ limit: 'maxDepth' });
    expect(scanJson(Buffer.from(JSON.stringify({ a: '[[[[[[[[[[[[' })), 4, 1000)).toBeUndefined();
    expect(scanJson(Buffer.from(JSON.stringify({ a: '"\\'.repeat(50) })), 4, 200)).toBeUndefined();
    expect(scanJson(Buffer.from(JSON.stringify({ a: 'x'.repeat(151) })), 4, 150)).toEqual({ limit: 'maxStringLength', max: 150, actual: 151 });
  });

  it('checkValue walks decoded values without recursion', () => {
    let v: unknown = [];
    for (let i = 0; i < 100_000; i++) v = [v];
    expect(checkValue(v, 64, 10)).toMatchObject({ limit: 'maxDepth', max: 64 });
    expect(checkValue({ a: { b: ['x'.repeat(11)] } }, 64, 10)).toEqual({ limit: 'maxStringLength', max: 10, actual: 11 });
    expect(checkValue({ a: { b: ['x'.repeat(10)] } }, 3, 10)).toBeUndefined();
  });

  it('state encoding refuses a value nested deeper than its bound instead of overflowing the stack (issue 18, F1)', () => {
    let v: unknown = {};
    for (let i = 0; i < 10_000; i++) v = { order_deep: v };
    expect(depthOver(v, 1000)).toBe(1001);
    expect(() => encodeValue(v)).toThrow(/nested deeper than 1000/);
    expect(encodeValue({ a: [1, { b: 2 }] }).length).toBeGreaterThan(0);
  });
});

describe('dead letters fit', () => {
  it('a prefix whose JSON text fits, whatever needs escaping', () => {
    for (const s of ['"'.repeat(10_000), '\\'.repeat(10_000), '\u0001'.repeat(10_000), '😀'.repeat(10_000)]) {
      const p = jsonPrefix(s, 1000);
      expect(Buffer.byteLength(JSON.stringify(p)) - 2).toBeLessThanOrEqual(1000);
      expect(p.length).toBeGreaterThan(100);
      expect(s.startsWith(p)).toBe(true);
      expect(() => encodeURIComponent(p)).not.toThrow(); // no lone surrogate
    }
  });

  it('bytes: length, SHA-256, UTF-8 text or base64', () => {
    const b = Buffer.from('"'.repeat(600_000));
    const s = summarizeBytes(b, 65_536);
    expect(s).toMatchObject({ bytes: 600_000, truncated: true, sha256: createHash('sha256').update(b).digest('hex') });
    expect(Buffer.byteLength(JSON.stringify(s.text))).toBeLessThanOrEqual(65_536 + 2);
    const bad = Buffer.from([0x7b, 0xff, 0xfe, 0x7d]);
    expect(summarizeBytes(bad, 100)).toMatchObject({ bytes: 4, truncated: false, base64: bad.toString('base64') });
  });

  it('values: kept when shallow and small, else summarised', () => {
    expect(fitValue({ a: 1 }, 100)).toEqual({ value: { a: 1 } });
    expect(fitValue({ a: 'x'.repeat(200) }, 100).raw).toMatchObject({ bytes: 208, truncated: true });
    let v: unknown = 1;
    for (let i = 0; i < 200; i++) v = [v];
    expect(fitValue(v, 100_000).raw).toMatchObject({ truncated: false });
  });
});

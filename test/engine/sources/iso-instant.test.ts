import { describe, expect, it } from 'vitest';
import { parseIsoInstant } from '../../../engine/sources/iso-instant.ts';

describe('strict ISO 8601 instants', () => {
  it('reads instants with Z or an offset, fractions and leap days', () => {
    expect(parseIsoInstant('2024-01-01T00:00:00Z')).toBe(Date.UTC(2024, 0, 1));
    expect(parseIsoInstant('2024-01-01t00:00:00.123z')).toBe(Date.UTC(2024, 0, 1) + 123);
    expect(parseIsoInstant('2024-01-01T01:30:00+01:30')).toBe(Date.UTC(2024, 0, 1));
    expect(parseIsoInstant('2023-12-31T19:00:00.5-05:00')).toBe(Date.UTC(2024, 0, 1) + 500);
    expect(parseIsoInstant('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    expect(parseIsoInstant('2000-02-29T00:00:00Z')).toBe(Date.UTC(2000, 1, 29));
    expect(parseIsoInstant('0001-01-01T00:00:00Z')).toBe(new Date('0001-01-01T00:00:00Z').getTime());
  });

  it('refuses what Date.parse accepts but names no instant or no real date (issue 18, F4)', () => {
    for (const s of [
      '2024-01-01 00:05:01', '01/02/2024', '2024-02-30T00:00:00Z', '0', '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z',
      '2024-01-01T00:00:00', '2024-01-01', '2024-13-01T00:00:00Z', '2024-00-10T00:00:00Z', '2024-01-32T00:00:00Z',
      '2024-01-01T24:00:00Z', '2024-01-01T23:60:00Z', '2024-01-01T23:59:60Z', '2024-01-01T00:00:00+24:00', '2024-01-01T00:00:00+0100',
      '+002024-01-01T00:00:00Z', ' 2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z ', '', 'NaN',
    ]) {
      expect(parseIsoInstant(s), s).toBeUndefined();
    }
    expect(parseIsoInstant(0)).toBeUndefined();
    expect(parseIsoInstant(null)).toBeUndefined();
  });
});

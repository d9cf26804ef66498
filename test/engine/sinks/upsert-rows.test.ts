import { describe, expect, it } from 'vitest';
import { lastRowPerKey, upsertRows } from '../../../engine/sinks/upsert-rows.ts';

describe('lastRowPerKey', () => {
  it('keeps the last row of each key, in delivery order, and counts the others', () => {
    const rows = [
      ['a', 1, 'x'],
      ['b', 1, 'y'],
      ['a', 1, 'z'],
      ['c', 2, 'w'],
      ['b', 1, 'v'],
    ];
    expect(lastRowPerKey(rows, [0])).toEqual({ rows: [['a', 1, 'z'], ['c', 2, 'w'], ['b', 1, 'v']], superseded: 2 });
  });

  it('keys on several columns together, without confusing values that join to the same text', () => {
    const rows = [
      ['a', 'b c', 1],
      ['a b', 'c', 2],
      ['a', 'b c', 3],
    ];
    expect(lastRowPerKey(rows, [0, 1])).toEqual({ rows: [['a b', 'c', 2], ['a', 'b c', 3]], superseded: 1 });
  });

  it('returns the rows as they are when no key repeats', () => {
    const rows = [['a'], ['b']];
    const r = lastRowPerKey(rows, [0]);
    expect(r.superseded).toBe(0);
    expect(r.rows).toBe(rows);
    expect(lastRowPerKey([], [0])).toEqual({ rows: [], superseded: 0 });
  });

  it('maps records to rows first, with their event time, then keeps the last per key', () => {
    const records = [
      { id: '0-1-0', key: null, value: { id: 'a', n: 1 }, time: 10 },
      { id: '0-1-1', key: null, value: { id: 'a', n: 2 }, time: 20 },
    ];
    const row = (v: unknown, t: number) => [(v as { id: string }).id, (v as { n: number }).n, t];
    expect(upsertRows(records, row, [0])).toEqual({ rows: [['a', 2, 20]], superseded: 1 });
  });
});

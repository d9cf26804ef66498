/**
 * What the keyed upsert sinks (Cassandra, PostgreSQL) write for one delivery:
 * one row per key, the last record's. An earlier record of a key would be
 * overwritten within the same delivery anyway, so the table ends up the same
 * with fewer writes (and PostgreSQL's INSERT ... ON CONFLICT DO UPDATE
 * refuses a key twice in one statement).
 */
import type { SinkRecord } from '../contracts/sinks.ts';

/** The records as rows (`row`), the last per key (the columns at keyIdx), in delivery order; `superseded` counts those left out. */
export function upsertRows(
  records: readonly SinkRecord[],
  row: (value: unknown, time: number) => unknown[],
  keyIdx: readonly number[],
): { rows: unknown[][]; superseded: number } {
  const rows: unknown[][] = new Array(records.length);
  for (let i = 0; i < records.length; i++) rows[i] = row(records[i].value, records[i].time);
  return lastRowPerKey(rows, keyIdx);
}

/** The rows, the last per key (the columns at keyIdx), in delivery order; `superseded` counts those left out. */
export function lastRowPerKey(rows: unknown[][], keyIdx: readonly number[]): { rows: unknown[][]; superseded: number } {
  if (rows.length < 2) return { rows, superseded: 0 };
  const k = keyIdx;
  const last = new Map<string, number>();
  for (let i = 0; i < rows.length; i++) last.set(k.length === 1 ? String(rows[i][k[0]]) : k.map((j) => String(rows[i][j])).join('\u0000'), i);
  if (last.size === rows.length) return { rows, superseded: 0 };
  return { rows: [...last.values()].sort((a, b) => a - b).map((i) => rows[i]), superseded: rows.length - last.size };
}

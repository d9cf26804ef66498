/**
 * GoogleSQL text for the BigQuery sink: typed literals and the upsert script.
 *
 * Rows travel as literals, not query parameters: the BigQuery emulator the
 * tests run (goccy/bigquery-emulator 0.8) rejects ARRAY<STRUCT> parameters
 * and INT64 parameters sent as JSON numbers, and its MERGE only takes a table
 * as source. Literals are built from typed values only, and strings are
 * escaped character by character (everything outside printable ASCII as
 * \uXXXX / \UXXXXXXXX), so no value can end a literal early.
 *
 * Upsert script, one per chunk of rows (a transaction, so a crash mid-way
 * leaves the table as it was, and a redelivery repeats it to the same end):
 *
 *   BEGIN TRANSACTION;
 *   DELETE FROM `p.d.t` WHERE row_id IN ('id1', 'id2', ...);
 *   INSERT INTO `p.d.t` (c1, c2, ...) SELECT * FROM UNNEST([STRUCT<c1 T1, ...>(v, ...), (v, ...)]);
 *   COMMIT TRANSACTION;
 */
import { ErrorCodes, SluiceError } from '../errors.ts';

export type BqType = 'STRING' | 'INT64' | 'FLOAT64' | 'BOOL' | 'TIMESTAMP' | 'DATE';

export interface BqColumn {
  readonly name: string;
  readonly type: BqType;
  /** REQUIRED columns reject nulls here, before BigQuery does. Default true (NULLABLE otherwise). */
  readonly nullable?: boolean;
  readonly description?: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const TABLE_PART = /^[A-Za-z0-9_-]+$/;

export function checkIdentifier(name: string, what: string): string {
  if (!IDENT.test(name)) throw new SluiceError(ErrorCodes.CONFIG, `bigquery: ${what} "${name}" is not a plain identifier`);
  return name;
}

export function tableRef(project: string, dataset: string, table: string): string {
  for (const [v, w] of [
    [project, 'project'],
    [dataset, 'dataset'],
    [table, 'table'],
  ]) {
    if (!TABLE_PART.test(v)) throw new SluiceError(ErrorCodes.CONFIG, `bigquery: ${w} "${v}" has characters outside [A-Za-z0-9_-]`);
  }
  return `\`${project}.${dataset}.${table}\``;
}

/** A GoogleSQL string literal for any JS string. */
export function stringLiteral(s: string): string {
  let out = "'";
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === "'" || ch === '\\') out += '\\' + ch;
    else if (c >= 0x20 && c < 0x7f) out += ch;
    else if (c <= 0xffff) out += '\\u' + c.toString(16).padStart(4, '0');
    else out += '\\U' + c.toString(16).padStart(8, '0');
  }
  return out + "'";
}

function isoUtc(ms: number): string {
  // 2023-07-29T07:51:39.000Z -> 2023-07-29 07:51:39.000+00
  return new Date(ms).toISOString().replace('T', ' ').replace('Z', '+00');
}

/** The literal for `v` as column `col`, or a SluiceError naming the column. */
export function literal(col: BqColumn, v: unknown): string {
  if (v === null || v === undefined) {
    if (col.nullable === false) throw new SluiceError(ErrorCodes.SINK, `bigquery: column ${col.name} is REQUIRED but the row has no value`);
    return 'NULL';
  }
  const bad = (): never => {
    throw new SluiceError(ErrorCodes.SINK, `bigquery: column ${col.name} (${col.type}) cannot hold ${JSON.stringify(v)}`);
  };
  switch (col.type) {
    case 'STRING':
      return typeof v === 'string' ? stringLiteral(v) : bad();
    case 'INT64':
      return Number.isSafeInteger(v) ? String(v) : typeof v === 'bigint' ? v.toString() : bad();
    case 'FLOAT64':
      return typeof v === 'number' && Number.isFinite(v) ? String(v) : bad();
    case 'BOOL':
      return typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : bad();
    case 'TIMESTAMP': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      return Number.isFinite(ms) ? `TIMESTAMP '${isoUtc(ms)}'` : bad();
    }
    case 'DATE': {
      const ms = v instanceof Date ? v.getTime() : typeof v === 'number' ? v : typeof v === 'string' ? Date.parse(v) : NaN;
      return Number.isFinite(ms) ? `DATE '${new Date(ms).toISOString().slice(0, 10)}'` : bad();
    }
  }
}

/** `BEGIN; DELETE ... ; INSERT ... ; COMMIT;` for rows keyed by `keyColumn`. */
export function upsertScript(table: string, columns: readonly BqColumn[], keyColumn: string, rows: readonly Record<string, unknown>[]): string {
  const key = columns.find((c) => c.name === keyColumn);
  if (!key) throw new SluiceError(ErrorCodes.CONFIG, `bigquery: key column ${keyColumn} is not among the columns`);
  const names = columns.map((c) => checkIdentifier(c.name, 'column')).join(', ');
  const struct = `STRUCT<${columns.map((c) => `${c.name} ${c.type}`).join(', ')}>`;
  const tuples = rows.map((r) => `(${columns.map((c) => literal(c, r[c.name])).join(', ')})`);
  const ids = rows.map((r) => literal(key, r[keyColumn]));
  return [
    'BEGIN TRANSACTION;',
    `DELETE FROM ${table} WHERE ${keyColumn} IN (${ids.join(', ')});`,
    `INSERT INTO ${table} (${names}) SELECT * FROM UNNEST([${struct}${tuples.join(', ')}]);`,
    'COMMIT TRANSACTION;',
  ].join('\n');
}

/**
 * Column declarations for the Parquet sink, and the row-to-column transpose
 * the writer (hyparquet-writer, chosen in bench/parquet-writers.ts) needs.
 *
 * Types map to Parquet physical/logical types as follows:
 *   STRING     BYTE_ARRAY, UTF8
 *   INT32      INT32
 *   INT64      INT64 (JS numbers; values beyond 2^53 are not expected here)
 *   DOUBLE     DOUBLE
 *   BOOLEAN    BOOLEAN
 *   TIMESTAMP  INT64, TIMESTAMP_MILLIS (JS number of ms, or a Date)
 * A nullable column is OPTIONAL; a non-nullable one REQUIRED, and a null in
 * it is a record error, reported before anything is written.
 */
import type { BasicType, ColumnSource } from 'hyparquet-writer';
import { ErrorCodes, SluiceError } from '../errors.ts';

export type ParquetType = 'STRING' | 'INT32' | 'INT64' | 'DOUBLE' | 'BOOLEAN' | 'TIMESTAMP';

export interface ParquetColumn {
  readonly name: string;
  readonly type: ParquetType;
  readonly nullable: boolean;
}

/** Columns of `rows`, in declaration order. Throws a SluiceError naming the first bad value. */
export function toColumnData(columns: readonly ParquetColumn[], rows: readonly object[]): ColumnSource[] {
  const out: ColumnSource[] = new Array(columns.length);
  for (let c = 0; c < columns.length; c++) {
    const col = columns[c];
    const data: unknown[] = new Array(rows.length);
    for (let i = 0; i < rows.length; i++) {
      let v = (rows[i] as Record<string, unknown>)[col.name];
      if (v === undefined) v = null;
      if (v === null) {
        if (!col.nullable) throw new SluiceError(ErrorCodes.SINK, `parquet: column ${col.name} is not nullable, row ${i} has no value`);
      } else if (!fits(col.type, v)) {
        throw new SluiceError(ErrorCodes.SINK, `parquet: column ${col.name} (${col.type}) cannot hold ${JSON.stringify(v)} (row ${i})`);
      } else if (col.type === 'INT64' || (col.type === 'TIMESTAMP' && typeof v === 'number')) {
        v = BigInt(v as number);
      }
      data[i] = v;
    }
    out[c] = { name: col.name, data, type: col.type as BasicType, nullable: col.nullable };
  }
  return out;
}

function fits(type: ParquetType, v: unknown): boolean {
  switch (type) {
    case 'STRING':
      return typeof v === 'string';
    case 'INT32':
      return Number.isInteger(v) && (v as number) >= -2147483648 && (v as number) <= 2147483647;
    case 'INT64':
      return Number.isSafeInteger(v);
    case 'DOUBLE':
      return typeof v === 'number';
    case 'BOOLEAN':
      return typeof v === 'boolean';
    case 'TIMESTAMP':
      return v instanceof Date || Number.isSafeInteger(v);
  }
}

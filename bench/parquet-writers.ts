/**
 * Parquet writer benchmark for the raw Wikipedia sink: hyparquet-writer vs
 * @dsnp/parquetjs, the two maintained pure-JS writers on npm.
 *
 *   node --import tsx bench/parquet-writers.ts
 *
 * @dsnp/parquetjs is not a dependency of the project (it pulls in the AWS
 * SDK); install it for a run with `npm i --no-save @dsnp/parquetjs@1.8.9`
 * (1.9.3 is published without its dist/ folder), otherwise only
 * hyparquet-writer is measured.
 *
 * Input: the 100 recorded recentchange events (test/fixtures/wikimedia),
 * repeated with distinct ids and offsets to ROWS rows, flattened to the raw
 * table's 36 columns (jobs/wikipedia/recent-change.ts). Each writer writes
 * one file of ROWS rows (SNAPPY); we time the write (median of 5 after a
 * warm-up), record the size, and read every file back with DuckDB, an
 * independent reader, checking the row count and a checksum of one column.
 * Results: bench/results/<date>-parquet-writers.json.
 */
import { readFileSync, rmSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { DuckDBInstance } from '@duckdb/node-api';
import { toRawRow, type RawRow, type RecentChange } from '../jobs/wikipedia/recent-change.ts';
import { RAW_COLUMNS } from '../jobs/wikipedia/raw-table.ts';
import { toColumnData } from '../engine/sinks/parquet-columns.ts';
import { writeResults } from './state-harness.ts';

const ROWS = Number(process.env.ROWS ?? 20_000);
const ROUNDS = 5;
const data = new URL('../test/fixtures/wikimedia/polars_book_wikimedia.ndjson', import.meta.url);
const events = readFileSync(data, 'utf8').split('\n').map((l) => JSON.parse(l) as RecentChange);
const rows: RawRow[] = [];
for (let i = 0; i < ROWS; i++) {
  const e = events[i % events.length];
  rows.push(toRawRow({ ...e, id: (e.id ?? 0) + i, meta: { ...e.meta, offset: (e.meta.offset ?? 0) + i } }));
}
const dir = mkdtempSync(join(tmpdir(), 'sluice-parquet-bench-'));

function hyparquet(file: string): void {
  const buf = parquetWriteBuffer({ columnData: toColumnData(RAW_COLUMNS, rows), codec: 'SNAPPY' });
  writeFileSync(file, new Uint8Array(buf));
}

type ParquetJs = {
  ParquetSchema: new (s: never) => unknown;
  ParquetWriter: { openFile(schema: unknown, path: string): Promise<{ appendRow(r: object): Promise<void>; close(): Promise<void> }> };
};
const parquetjs = await import('@dsnp/parquetjs' as string).then(
  (m: { default?: ParquetJs } & ParquetJs) => m.default ?? m,
  () => undefined,
);
const pjSchema = parquetjs && new parquetjs.ParquetSchema(
  Object.fromEntries(
    RAW_COLUMNS.map((c) => [
      c.name,
      {
        type: c.type === 'STRING' ? 'UTF8' : c.type === 'BOOLEAN' ? 'BOOLEAN' : c.type === 'INT32' ? 'INT32' : 'INT64',
        optional: c.nullable,
        compression: 'SNAPPY',
      },
    ]),
  ) as never,
);

async function dsnp(file: string): Promise<void> {
  const w = await parquetjs!.ParquetWriter.openFile(pjSchema, file);
  for (const r of rows) {
    const rec: Record<string, unknown> = {};
    for (const c of RAW_COLUMNS) {
      const v = r[c.name as keyof RawRow];
      if (v !== null) rec[c.name] = v;
    }
    await w.appendRow(rec);
  }
  await w.close();
}

async function time(fn: (file: string) => void | Promise<void>, name: string): Promise<{ ms: number[]; file: string }> {
  const file = join(dir, `${name}.parquet`);
  await fn(file);
  const ms: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    await fn(file);
    ms.push(performance.now() - t0);
  }
  return { ms, file };
}

const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
const expectedSum = rows.reduce((s, r) => s + (r.length_new ?? 0), 0);
const results = [];
const writers: Array<[string, (file: string) => void | Promise<void>]> = [['hyparquet-writer', hyparquet]];
if (parquetjs) writers.push(['@dsnp/parquetjs', dsnp]);
else console.log('@dsnp/parquetjs not installed: measuring hyparquet-writer only (see the header)');
for (const [name, fn] of writers) {
  const { ms, file } = await time(fn, name.replace(/\W/g, '_'));
  const read = await conn.runAndReadAll(`select count(*)::BIGINT, sum(length_new)::BIGINT from read_parquet('${file}')`);
  const [count, sum] = read.getRows()[0] as [bigint, bigint];
  if (Number(count) !== ROWS || Number(sum) !== expectedSum) throw new Error(`${name}: DuckDB read ${count} rows, sum ${sum}`);
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)];
  const r = {
    writer: name,
    rows: ROWS,
    columns: RAW_COLUMNS.length,
    medianMs: +median.toFixed(1),
    minMs: +ms[0].toFixed(1),
    maxMs: +ms[ms.length - 1].toFixed(1),
    rowsPerSec: Math.round((ROWS * 1000) / median),
    bytes: statSync(file).size,
    duckdbReadBack: 'ok',
  };
  results.push(r);
  console.log(`${name.padEnd(18)} ${r.medianMs} ms (min ${r.minMs}, max ${r.maxMs}), ${r.rowsPerSec} rows/s, ${r.bytes} bytes`);
}
rmSync(dir, { recursive: true, force: true });
const out = writeResults('parquet-writers', 'node --import tsx bench/parquet-writers.ts', results, `${ROWS} rows x ${RAW_COLUMNS.length} columns, SNAPPY, median of ${ROUNDS} after a warm-up; read back with DuckDB`);
console.log(out);

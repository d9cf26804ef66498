/**
 * Parquet files in Hive layout, committed with the checkpoint.
 *
 * Layout (Hive/Spark style: the partition column lives in the path, not in
 * the file):
 *
 *   <root>/<table>/<col>=<value>/part-<partition>-<epoch, 10 digits>.parquet
 *
 * e.g. wikipedia_recent_changes/ts=20230729/part-3-0000000042.parquet. One
 * file per (source partition, checkpoint epoch, Hive partition), SNAPPY
 * compressed, one row group, written with hyparquet-writer (chosen over
 * @dsnp/parquetjs in bench/parquet-writers.ts: faster and 6x smaller files).
 * Columns and types: parquet-columns.ts.
 *
 * Two-phase commit (contracts/sinks.ts). The rows reach this sink only from the
 * actor's outbox, i.e. after the checkpoint holding them is durable.
 * prepare() writes each file of the epoch to a hidden temporary name in its
 * final directory (`.part-....parquet.tmp`, which Hive, Spark, DuckDB and
 * pyarrow skip) and fsyncs it; commit() renames the epoch's files into
 * place. A crash before the rename leaves only a hidden temp file; the epoch
 * is prepared and committed again on restart, writing and renaming the same
 * names, so a reader never sees a partial file, and never two files for one
 * (partition, epoch). Within one epoch, files of different Hive partitions
 * are renamed one by one: a crash between two renames shows some of the
 * epoch's files until the redelivery adds the rest.
 */
import { mkdir, open, rename } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { SinkContext, SinkDelivery, SinkEpoch, SinkSpec, TwoPhaseSinkDriver } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { toColumnData, type ParquetColumn } from './parquet-columns.ts';

export interface ParquetSinkOptions<V, R extends object> {
  /** Root directory; relative paths are under the runtime's output dir. Default: the output dir. */
  dir?: string;
  /** Table directory under the root. */
  table: string;
  columns: readonly ParquetColumn[];
  /** Hive partition column name, e.g. "ts". */
  partitionColumn: string;
  /** The partition value of a record, e.g. "20230729" (no "/" allowed). */
  partitionValue(value: V, time: number): string;
  /** Record to row; default: the record is the row. */
  toRow?(value: V): R;
}

class ParquetSinkDriver<V, R extends object> implements TwoPhaseSinkDriver {
  private root = '';
  /** Per prepared epoch (`<actor>:<epoch>`): its temp files and their final names. */
  private readonly prepared = new Map<string, Array<[string, string]>>();
  private readonly made = new Set<string>();

  constructor(private readonly o: ParquetSinkOptions<V, R>) {}

  async open(ctx: SinkContext): Promise<void> {
    const base = this.o.dir === undefined ? ctx.runtime.outputDir : isAbsolute(this.o.dir) ? this.o.dir : join(ctx.runtime.outputDir, this.o.dir);
    this.root = join(base, this.o.table);
    await mkdir(this.root, { recursive: true });
  }

  /** Phase 1: the epoch's files, written and fsynced under hidden temp names. */
  async prepare(d: SinkDelivery): Promise<void> {
    const groups = new Map<string, R[]>();
    const toRow = this.o.toRow;
    for (const r of d.records) {
      const v = r.value as V;
      const pv = this.o.partitionValue(v, r.time);
      if (!pv || pv.includes('/') || pv.includes('\0')) {
        throw new SluiceError(ErrorCodes.SINK, `parquet sink ${this.o.table}: bad partition value ${JSON.stringify(pv)} for record ${r.id}`);
      }
      let rows = groups.get(pv);
      if (!rows) groups.set(pv, (rows = []));
      rows.push(toRow ? toRow(v) : (v as unknown as R));
    }
    const name = `part-${d.partition}-${String(d.epoch).padStart(10, '0')}.parquet`;
    const renames: Array<[string, string]> = [];
    for (const [pv, rows] of [...groups].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const dir = join(this.root, `${this.o.partitionColumn}=${pv}`);
      if (!this.made.has(dir)) {
        await mkdir(dir, { recursive: true });
        this.made.add(dir);
      }
      const bytes = new Uint8Array(parquetWriteBuffer({ columnData: toColumnData(this.o.columns, rows), codec: 'SNAPPY', rowGroupSize: rows.length || 1, createdBy: 'sluice parquet sink (hyparquet-writer)' }));
      const tmp = join(dir, `.${name}.tmp`);
      const fh = await open(tmp, 'w');
      try {
        await fh.writeFile(bytes);
        await fh.sync();
      } finally {
        await fh.close();
      }
      renames.push([tmp, join(dir, name)]);
    }
    this.prepared.set(`${d.actorId}:${d.epoch}`, renames);
  }

  /** Phase 2: the prepared files renamed into place, epoch by epoch. */
  async commit(epochs: readonly SinkEpoch[]): Promise<void> {
    for (const e of epochs) {
      const key = `${e.actorId}:${e.epoch}`;
      for (const [tmp, final] of this.prepared.get(key) ?? []) await rename(tmp, final);
      this.prepared.delete(key);
    }
  }

  async close(): Promise<void> {}
}

export function parquetSink<V, R extends object = Record<string, unknown>>(o: ParquetSinkOptions<V, R>): SinkSpec<TwoPhaseSinkDriver> {
  return {
    kind: 'parquet',
    guarantee: 'exactly-once: one Parquet file per (partition, checkpoint epoch, Hive partition), written to a hidden temp name and renamed into place after the checkpoint is durable; redelivery replaces it',
    outbox: true,
    create: () => new ParquetSinkDriver(o),
  };
}

/**
 * The Parquet sink writes Hive-layout files that an independent reader
 * (DuckDB) reads back exactly, through its two-phase contract: nothing is
 * visible after prepare, the files after commit, and a redelivered epoch
 * replaces its files rather than adding to them.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import type { SinkDelivery } from '../../../engine/contracts/sinks.ts';
import { parquetSink } from '../../../engine/sinks/parquet-sink.ts';
import { dayPartition, eventTimeMs, toRawRow, type RawRow, type RecentChange } from '../../../jobs/wikipedia/recent-change.ts';
import { RAW_COLUMNS, RAW_TABLE } from '../../../jobs/wikipedia/raw-table.ts';
import { recordedEvents, variants } from '../../helpers/wikimedia-fixtures.ts';
import { tempDir } from '../../helpers/temp.ts';

const events = [...recordedEvents(), ...variants()];

function delivery(epoch: number, partition: number, evs: RecentChange[]): SinkDelivery {
  return { sinkId: 'raw', actorId: `p${partition}`, partition, epoch, records: evs.map((e, i) => ({ id: `${partition}-${epoch}-${i}`, key: null, value: e, time: eventTimeMs(e) })) };
}

describe('Parquet sink', () => {
  it('writes Hive-layout files that DuckDB reads back row for row; redelivery replaces, never duplicates', async () => {
    const out = tempDir('sluice-parquet-');
    const driver = parquetSink<RecentChange, RawRow>({ table: RAW_TABLE, columns: RAW_COLUMNS, partitionColumn: 'ts', partitionValue: (e) => dayPartition(eventTimeMs(e)), toRow: toRawRow }).create();
    await driver.open({ job: 't', sinkId: 'raw', workerId: 0, runtime: { brokers: [], stateDir: out, outputDir: out, embedded: true } });
    const root = join(out, RAW_TABLE);
    const epoch = (d: SinkDelivery) => ({ actorId: d.actorId, partition: d.partition, epoch: d.epoch });
    const visible = (): string[] => readdirSync(root).flatMap((dir) => readdirSync(join(root, dir)).filter((f) => !f.startsWith('.')));
    const one = delivery(1, 0, events.slice(0, 50));
    // Phase 1 leaves only hidden temp files: a reader sees nothing of the epoch yet.
    await driver.prepare(one, undefined);
    expect(visible()).toEqual([]);
    expect(readdirSync(join(root, 'ts=20230729'))).toEqual(['.part-0-0000000001.parquet.tmp']);
    await driver.commit([epoch(one)]);
    const two = delivery(2, 1, events.slice(50));
    await driver.prepare(two, undefined);
    await driver.commit([epoch(two)]);
    // Redelivery after a crash before the ack: prepared and committed again, replacing the same files.
    await driver.prepare(one, undefined);
    await driver.commit([epoch(one)]);
    await driver.close();

    expect(readdirSync(root).sort()).toEqual(['ts=20221211', 'ts=20230729']);
    const files = readdirSync(join(root, 'ts=20230729')).sort();
    expect(files).toEqual(['part-0-0000000001.parquet', 'part-1-0000000002.parquet']);
    expect(readdirSync(join(root, 'ts=20221211'))).toEqual(['part-0-0000000001.parquet']);

    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const reader = await conn.runAndReadAll(
      `SELECT * EXCLUDE (ts), ts::VARCHAR AS ts FROM read_parquet('${root}/*/*.parquet', hive_partitioning = true) ORDER BY meta_offset, meta_id`,
    );
    const rows = reader.getRowObjectsJS() as Array<Record<string, unknown>>;
    const want = events
      .map((e) => ({ ...toRawRow(e), ts: dayPartition(eventTimeMs(e)) }))
      .sort((a, b) => (a.meta_offset ?? 0) - (b.meta_offset ?? 0) || String(a.meta_id).localeCompare(String(b.meta_id)));
    expect(rows.length).toBe(events.length);
    // DuckDB returns INT64 as bigint: compare as numbers.
    const norm = (r: Record<string, unknown>) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'bigint' ? Number(v) : v]));
    expect(rows.map(norm)).toEqual(want);
    const logParams = rows.filter((r) => r.type === 'log').map((r) => JSON.parse(String(r.log_params)) as unknown);
    expect(logParams).toEqual([['first', 'second'], { target: 'Somewhere else', noredir: '0' }, 'a:1:{s:6:"legacy";s:3:"php";}']);
  });
});

/**
 * BigQuery sink (@google-cloud/bigquery).
 *
 * Every row carries a deterministic id (`rowId(value)`, e.g. the window and
 * the key), stored in the table's key column. Two ways to write:
 *
 *   upsert (default)  per delivery, per chunk of rows, one transaction that
 *                     deletes the chunk's ids and inserts the rows (see
 *                     bigquery-sql.ts). Exact: a redelivered epoch, or a
 *                     window emitted again with a late update, replaces the
 *                     row instead of adding one. Costs one DML job per chunk.
 *   insert-all        streaming tabledata.insertAll with insertId = row id.
 *                     BigQuery drops repeats of an insertId on a best-effort
 *                     basis (about a minute); cheaper, for append-only
 *                     output. The emulator ignores insertId, so tests use
 *                     upsert.
 *
 * Within one delivery the last row per id wins (on-time and late emissions
 * of one window can share an epoch). The table is created on open when
 * missing, day-partitioned on `partitionField` if given.
 *
 * Errors: invalid SQL/schema/values are not retryable (the actor fails with
 * the message); anything else (network, 5xx, rate limits, concurrent DML on
 * the table) is retryable, and the outbox's delivery queue retries with
 * backoff. Backpressure: the actor stops taking input while its deliveries
 * are behind (partition-actor.ts).
 *
 * `apiEndpoint` points the client at an emulator; then a static bearer token
 * is used, so google-auth-library never looks for credentials (which would
 * probe the GCE metadata server).
 */
import { BigQuery, type TableField } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import type { SinkContext, SinkDelivery, SinkDriver, SinkSpec } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { tableRef, upsertScript, type BqColumn } from './bigquery-sql.ts';

export interface BigQuerySinkOptions<V> {
  projectId: string;
  dataset: string;
  table: string;
  columns: readonly BqColumn[];
  /** Column holding the row id (STRING). */
  keyColumn: string;
  /** Deterministic id of a row. */
  rowId(row: Record<string, unknown>): string;
  /** Record to row; default: the record is the row (the key column is filled from rowId). */
  toRow?(value: V): Record<string, unknown>;
  /** Day partitioning on this TIMESTAMP/DATE column when the sink creates the table. */
  partitionField?: string;
  mode?: 'upsert' | 'insert-all';
  /** E.g. http://127.0.0.1:9050 for the emulator. */
  apiEndpoint?: string;
  location?: string;
  /** Rows per statement / insertAll request. Default 500. */
  chunkRows?: number;
}

const NOT_RETRYABLE = /failed to analyze|failed to parse|syntax error|invalid|not found|no such|cannot hold|REQUIRED/i;

class BigQuerySinkDriver<V> implements SinkDriver {
  private bq!: BigQuery;
  private ref = '';

  constructor(private readonly o: BigQuerySinkOptions<V>) {}

  async open(_ctx: SinkContext): Promise<void> {
    const o = this.o;
    let authClient: OAuth2Client | undefined;
    if (o.apiEndpoint) {
      authClient = new OAuth2Client();
      authClient.setCredentials({ access_token: 'emulator', expiry_date: 8.64e15 });
    }
    this.bq = new BigQuery({ projectId: o.projectId, apiEndpoint: o.apiEndpoint, location: o.location, authClient });
    this.ref = tableRef(o.projectId, o.dataset, o.table);
    try {
      await this.ensureTable();
    } catch (err) {
      throw classify(err, `bigquery sink ${this.ref}: cannot prepare the table`);
    }
  }

  private async ensureTable(): Promise<void> {
    const ds = this.bq.dataset(this.o.dataset);
    const [dsExists] = await ds.exists();
    if (!dsExists) await ds.create().catch((e: unknown) => ignoreAlreadyExists(e));
    const table = ds.table(this.o.table);
    const [exists] = await table.exists();
    if (exists) return;
    const schema: TableField[] = this.o.columns.map((c) => ({ name: c.name, type: c.type, mode: c.nullable === false ? 'REQUIRED' : 'NULLABLE', description: c.description }));
    const timePartitioning = this.o.partitionField ? { type: 'DAY', field: this.o.partitionField } : undefined;
    await ds.createTable(this.o.table, { schema, timePartitioning }).catch((e: unknown) => ignoreAlreadyExists(e));
  }

  async deliver(d: SinkDelivery): Promise<void> {
    const o = this.o;
    // Last row per id wins.
    const byId = new Map<string, Record<string, unknown>>();
    for (const r of d.records) {
      const row = o.toRow ? o.toRow(r.value as V) : { ...(r.value as Record<string, unknown>) };
      const id = o.rowId(row);
      row[o.keyColumn] = id;
      byId.delete(id);
      byId.set(id, row);
    }
    const rows = [...byId.values()];
    const n = o.chunkRows ?? 500;
    for (let i = 0; i < rows.length; i += n) {
      const chunk = rows.slice(i, i + n);
      try {
        if ((o.mode ?? 'upsert') === 'upsert') {
          await this.bq.query({ query: upsertScript(this.ref, o.columns, o.keyColumn, chunk), location: o.location });
        } else {
          await this.bq
            .dataset(o.dataset)
            .table(o.table)
            .insert(
              chunk.map((row) => ({ insertId: row[o.keyColumn] as string, json: jsonRow(o.columns, row) })),
              { raw: true },
            );
        }
      } catch (err) {
        throw classify(err, `bigquery sink ${this.ref}: ${chunk.length} rows of epoch ${d.epoch}, partition ${d.partition}`);
      }
    }
  }

  async close(): Promise<void> {}
}

/** insertAll JSON: timestamps as ISO strings, 64-bit ints as strings. */
function jsonRow(columns: readonly BqColumn[], row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of columns) {
    const v = row[c.name];
    if (v === null || v === undefined) out[c.name] = null;
    else if (c.type === 'TIMESTAMP') out[c.name] = new Date(v as number | string).toISOString();
    else if (c.type === 'INT64') out[c.name] = String(v);
    else out[c.name] = v;
  }
  return out;
}

function ignoreAlreadyExists(e: unknown): void {
  if ((e as { code?: number }).code === 409 || /already (exists|created)/i.test((e as Error).message)) return;
  throw e;
}

function classify(err: unknown, what: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = err as { message?: string; code?: number; errors?: Array<{ message?: string; reason?: string }> };
  const detail = e.errors?.map((x) => x.message).filter(Boolean).join('; ') || e.message || String(err);
  const status = typeof e.code === 'number' ? e.code : undefined;
  const retryable = status === 429 || (status !== undefined && status >= 500) || (status === undefined && !NOT_RETRYABLE.test(detail)) || /concurrent|serialize|locked|busy/i.test(detail);
  return new SluiceError(ErrorCodes.SINK, `${what}: ${detail}`, { retryable, cause: err });
}

export function bigQuerySink<V = Record<string, unknown>>(o: BigQuerySinkOptions<V>): SinkSpec<SinkDriver> {
  const exact = (o.mode ?? 'upsert') === 'upsert';
  return {
    kind: 'bigquery',
    guarantee: exact
      ? `exactly-once: upsert by ${o.keyColumn} (delete + insert in one transaction per chunk)`
      : `at-least-once, deduplicated by insertId = ${o.keyColumn} on a best-effort basis`,
    outbox: true,
    create: () => new BigQuerySinkDriver(o),
  };
}

/**
 * PostgreSQL sink: idempotent upserts through `pg`.
 *
 * Guarantee: exactly-once in effect. A delivery is written as multi-row
 *   INSERT INTO <table> (cols) VALUES (...), (...) ON CONFLICT (key) DO UPDATE SET col = EXCLUDED.col, ...
 * statements of up to `chunkRows` rows, all in one transaction, so an outbox
 * epoch delivered twice leaves the same rows, and a failed delivery leaves
 * nothing half-written. Only the last record of each key in a delivery is
 * sent: PostgreSQL rejects a statement that would update one row twice.
 *
 * Flow control and errors as in cassandra-sink.ts: the sink only classifies.
 * Connection failures, server shutdown, serialization failures and deadlocks
 * are retryable (the runtime's one delivery policy retries the delivery,
 * which backs the actor up and pauses its input); data and SQL errors are
 * not, and fail the job at once. (open() retries its setup statements while
 * the server is unreachable, for up to a minute.)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { SinkContext, SinkDelivery, SinkDriver, SinkSpec } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Backoff, type BackoffOptions } from '../sources/backoff.ts';
import { upsertRows } from './upsert-rows.ts';

export interface PostgresSinkOptions {
  /** e.g. postgres://user@127.0.0.1:5432/db */
  url: string;
  table: string;
  columns: readonly string[];
  /** The conflict target: a primary key or unique constraint's columns. */
  key: readonly string[];
  /** Values in `columns` order; `time` is the record's event time (ms). */
  row: (value: unknown, time: number) => unknown[];
  /**
   * SQL expressions for columns on conflict, instead of `EXCLUDED.col`; they
   * must stay idempotent and order-independent, e.g. keeping the first time
   * seen: { ingested_at: 'LEAST(t.ingested_at, EXCLUDED.ingested_at)' } (the
   * table is aliased `t`).
   */
  onConflict?: Record<string, string>;
  /** SQL run once at open (CREATE TABLE IF NOT EXISTS ...). */
  setup?: readonly string[];
  /** Rows per INSERT statement. Default 500 (PostgreSQL allows 65535 parameters per statement). */
  chunkRows?: number;
  /** Connections per sink driver. Default 2. */
  poolSize?: number;
  /** Backoff of open()'s setup retries (deliveries follow the runtime's delivery policy). */
  backoff?: BackoffOptions;
  log?: (message: string) => void;
}

/** SQLSTATE classes and codes worth retrying: the connection, the server's state, or a conflict, not the data. */
export function isRetryablePgError(err: unknown): boolean {
  const code = (err as { code?: string })?.code;
  if (typeof code !== 'string') return true; // no SQLSTATE: a socket or pool error
  if (/^E[A-Z]+$/.test(code)) return true; // ECONNREFUSED, ECONNRESET ...
  return code.startsWith('08') || ['57P01', '57P02', '57P03', '40001', '40P01', '53300', '53400'].includes(code);
}

export interface PostgresSinkStats {
  rows: number;
  deliveries: number;
  /** Deliveries that failed with a retryable error (the runtime retried them). */
  retries: number;
  superseded: number;
}

class PostgresSinkDriver implements SinkDriver {
  private pool!: pg.Pool;
  private readonly keyIdx: number[];
  private readonly backoff: Backoff;
  private readonly log: (m: string) => void;
  private readonly head: string;
  private readonly tail: string;
  readonly stats: PostgresSinkStats = { rows: 0, deliveries: 0, retries: 0, superseded: 0 };

  constructor(private readonly o: PostgresSinkOptions) {
    this.keyIdx = o.key.map((k) => {
      const i = o.columns.indexOf(k);
      if (i < 0) throw new SluiceError(ErrorCodes.CONFIG, `postgres sink: key column "${k}" is not in columns`);
      return i;
    });
    const q = (id: string): string => `"${id.replace(/"/g, '""')}"`;
    const updates = o.columns.filter((c) => !o.key.includes(c)).map((c) => `${q(c)} = ${o.onConflict?.[c] ?? `EXCLUDED.${q(c)}`}`);
    this.head = `INSERT INTO ${o.table.split('.').map(q).join('.')} AS t (${o.columns.map(q).join(', ')}) VALUES `;
    this.tail = ` ON CONFLICT (${o.key.map(q).join(', ')}) ` + (updates.length ? `DO UPDATE SET ${updates.join(', ')}` : 'DO NOTHING');
    this.backoff = new Backoff({ initialMs: 200, maxMs: 5_000, ...o.backoff });
    this.log = o.log ?? ((m) => void process.stderr.write(`sluice: postgres sink ${o.table}: ${m}\n`));
  }

  async open(ctx: SinkContext): Promise<void> {
    this.pool = new pg.Pool({ connectionString: this.o.url, max: this.o.poolSize ?? 2, application_name: `sluice-${ctx.job}`, connectionTimeoutMillis: 10_000 });
    // An idle client losing its connection (server restart) must not crash the worker.
    this.pool.on('error', (err) => this.log(`idle connection error: ${err.message}`));
    for (const sql of this.o.setup ?? []) {
      try {
        // Bounded like every first connection (--connect-timeout, 15 s by default).
        await this.retrying('setup', () => this.pool.query(sql), Date.now() + (ctx.runtime.connectTimeoutMs ?? 15_000));
      } catch (err) {
        throw new SluiceError(ErrorCodes.SINK, `postgres sink: setup failed: ${sql}: ${(err as Error).message}`, { cause: err });
      }
    }
  }

  async deliver(d: SinkDelivery): Promise<void> {
    const rows = this.rowsOf(d);
    this.stats.deliveries++;
    if (rows.length === 0) return;
    try {
      await this.writeAll(rows);
    } catch (err) {
      const retryable = isRetryablePgError(err);
      if (retryable) this.stats.retries++;
      throw new SluiceError(ErrorCodes.SINK, `postgres sink ${this.o.table}: ${(err as Error).message}`, { cause: err, retryable });
    }
    this.stats.rows += rows.length;
  }

  /** For open()'s setup only: deliveries are retried by the runtime's delivery policy. */
  private async retrying<R>(what: string, fn: () => Promise<R>, deadline: number): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!isRetryablePgError(err)) {
          throw new SluiceError(ErrorCodes.SINK, `postgres sink ${this.o.table}: ${(err as Error).message}`, { cause: err });
        }
        if (Date.now() >= deadline) {
          throw new SluiceError(ErrorCodes.SINK, `postgres sink ${this.o.table}: ${what} still failing: ${(err as Error).message}`, { cause: err, retryable: true });
        }
        const delay = this.backoff.delay(attempt);
        this.stats.retries++;
        if (attempt === 1 || attempt % 10 === 0) this.log(`${what} failed (${(err as Error).message}); retry ${attempt} in ${delay} ms`);
        await sleep(delay);
      }
    }
  }

  private async writeAll(rows: unknown[][]): Promise<void> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      const chunk = this.o.chunkRows ?? 500;
      for (let i = 0; i < rows.length; i += chunk) await this.insert(client, rows.slice(i, i + chunk));
      await client.query('COMMIT');
    } catch (err) {
      broken = isRetryablePgError(err);
      await client.query('ROLLBACK').catch(() => (broken = true));
      throw err;
    } finally {
      // A connection that failed mid-transaction is not reused.
      client.release(broken);
    }
  }

  private async insert(client: pg.PoolClient, rows: unknown[][]): Promise<void> {
    const w = this.o.columns.length;
    const params: unknown[] = new Array(rows.length * w);
    const tuples: string[] = new Array(rows.length);
    for (let r = 0; r < rows.length; r++) {
      const ph: string[] = new Array(w);
      for (let c = 0; c < w; c++) {
        params[r * w + c] = rows[r][c];
        ph[c] = `$${r * w + c + 1}`;
      }
      tuples[r] = `(${ph.join(', ')})`;
    }
    await client.query(this.head + tuples.join(', ') + this.tail, params);
  }

  private rowsOf(d: SinkDelivery): unknown[][] {
    const r = upsertRows(d.records, this.o.row, this.keyIdx);
    this.stats.superseded += r.superseded;
    return r.rows;
  }

  async close(): Promise<void> {
    await this.pool?.end();
  }

  destroy(): void {
    void this.pool?.end().catch(() => {});
  }
}

export function postgresSink(o: PostgresSinkOptions): SinkSpec<SinkDriver> {
  return {
    kind: 'postgres',
    guarantee: 'exactly-once in effect: one transaction per delivery of INSERT ... ON CONFLICT DO UPDATE by key',
    outbox: true,
    create: () => new PostgresSinkDriver(o),
  };
}

export function createPostgresSinkDriver(o: PostgresSinkOptions): SinkDriver & { readonly stats: PostgresSinkStats } {
  return new PostgresSinkDriver(o);
}

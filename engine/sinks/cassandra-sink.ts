/**
 * Cassandra sink: idempotent upserts through cassandra-driver.
 *
 * Guarantee: exactly-once in effect. Every record becomes one prepared
 * `INSERT INTO ks.table (cols) VALUES (?, ...)`; in Cassandra an INSERT is an
 * upsert, so delivering an outbox epoch twice (crash after the write, before
 * the outbox ack) rewrites the same rows with the same values. Within one
 * delivery only the last record of each primary key is written, so the
 * result does not depend on the order concurrent writes land in.
 *
 * Flow control: a delivery writes its rows with at most `concurrency`
 * requests in flight, and resolves only when every row is acknowledged.
 * While Cassandra is down or overloaded deliveries fail and the runtime
 * retries them (its one delivery policy, engine/runtime/delivery-policy.ts:
 * backoff, a retry budget, every retry logged); the actor's undelivered
 * epochs then pile up to its limit, the actor reports backpressure, and the
 * runtime pauses its Kafka partitions. Memory stays bounded by the outbox
 * limit, not by the length of the outage.
 *
 * Errors are only classified here: unavailable, overloaded, timeouts, no
 * host, bootstrapping are retryable; syntax, invalid query, unauthorized and
 * config errors are not (retrying cannot fix them), and fail the job at once.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import cassandra from 'cassandra-driver';
import type { SinkContext, SinkDelivery, SinkDriver, SinkSpec } from '../contracts/sinks.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Backoff, type BackoffOptions } from '../sources/backoff.ts';
import { upsertRows } from './upsert-rows.ts';

export interface CassandraSinkOptions {
  /** `host:port` of one or more nodes. */
  contactPoints: string[];
  /** Default 'datacenter1' (a single node's). */
  localDataCenter?: string;
  keyspace: string;
  table: string;
  /** Columns in the order `row()` returns values. */
  columns: readonly string[];
  /** Primary key columns (a subset of `columns`): the last record of each key in a delivery wins. */
  key: readonly string[];
  /** The row of a record, values in `columns` order; `time` is the record's event time (ms). */
  row: (value: unknown, time: number) => unknown[];
  /** CQL run once when the sink opens, e.g. CREATE KEYSPACE / TABLE IF NOT EXISTS. */
  setup?: readonly string[];
  /** Requests in flight per sink driver (one driver per worker thread). Default 32. */
  concurrency?: number;
  /** Default LOCAL_QUORUM. */
  consistency?: 'one' | 'localOne' | 'quorum' | 'localQuorum' | 'all';
  /** How long open() waits for the cluster. Default: the run's --connect-timeout (15 s). */
  connectForMs?: number;
  /** Where a user sets the address, named when it cannot be reached (e.g. "--set cassandra=host:port"). */
  addressHint?: string;
  /** Backoff of open()'s connection attempts (deliveries follow the runtime's delivery policy). */
  backoff?: BackoffOptions;
}

const RETRYABLE_CODES = new Set<number>([
  cassandra.types.responseErrorCodes.serverError,
  cassandra.types.responseErrorCodes.unavailableException,
  cassandra.types.responseErrorCodes.overloaded,
  cassandra.types.responseErrorCodes.isBootstrapping,
  cassandra.types.responseErrorCodes.writeTimeout,
  cassandra.types.responseErrorCodes.writeFailure,
  cassandra.types.responseErrorCodes.readTimeout,
  cassandra.types.responseErrorCodes.unprepared,
]);

export function isRetryableCassandraError(err: unknown): boolean {
  const e = cassandra.errors;
  if (err instanceof e.NoHostAvailableError || err instanceof e.OperationTimedOutError || err instanceof e.BusyConnectionError) return true;
  if (err instanceof e.ResponseError) return RETRYABLE_CODES.has(err.code);
  // Socket errors surface as plain Errors with a code.
  return typeof (err as NodeJS.ErrnoException)?.code === 'string' && /^E[A-Z]+/.test((err as NodeJS.ErrnoException).code!);
}

/** Each host's socket error, one line: "127.0.0.1:1: ECONNREFUSED" (the driver's message spans many). */
function connectCause(err: unknown): string {
  const inner = (err as { innerErrors?: Record<string, unknown> }).innerErrors;
  if (inner && typeof inner === 'object' && Object.keys(inner).length > 0) {
    return Object.entries(inner)
      .map(([host, e]) => `${host}: ${(e as NodeJS.ErrnoException)?.code ?? String((e as Error)?.message ?? e).split('\n')[0]}`)
      .join('; ');
  }
  return String((err as Error)?.message ?? err).split('\n')[0];
}

/** A contact point whose host does not resolve: waiting will not change it. */
function isUnresolvable(err: unknown): boolean {
  const codes = new Set(['ENOTFOUND', 'EAI_NONAME', 'EAI_FAIL']);
  const inner = (err as { innerErrors?: Record<string, unknown> }).innerErrors;
  const all = inner && typeof inner === 'object' && Object.keys(inner).length > 0 ? Object.values(inner) : [err];
  return all.length > 0 && all.every((e) => codes.has((e as NodeJS.ErrnoException)?.code ?? '') || /ENOTFOUND|could be resolved|not resolve/i.test(String((e as Error)?.message ?? '')));
}

export interface CassandraSinkStats {
  rows: number;
  deliveries: number;
  /** Deliveries that failed with a retryable error (the runtime retried them). */
  retries: number;
  /** Records dropped because a later one in the same delivery had the same key. */
  superseded: number;
}

class CassandraSinkDriver implements SinkDriver {
  private client!: cassandra.Client;
  private insert = '';
  private readonly keyIdx: number[];
  private readonly backoff: Backoff;
  private consistency = cassandra.types.consistencies.localQuorum;
  readonly stats: CassandraSinkStats = { rows: 0, deliveries: 0, retries: 0, superseded: 0 };

  constructor(private readonly o: CassandraSinkOptions) {
    this.keyIdx = o.key.map((k) => {
      const i = o.columns.indexOf(k);
      if (i < 0) throw new SluiceError(ErrorCodes.CONFIG, `cassandra sink: key column "${k}" is not in columns`);
      return i;
    });
    this.backoff = new Backoff({ initialMs: 200, maxMs: 5_000, ...o.backoff });
    if (o.consistency) {
      const c = cassandra.types.consistencies[o.consistency];
      if (c === undefined) {
        throw new SluiceError(ErrorCodes.CONFIG, `cassandra sink: unknown consistency "${o.consistency}" (one, localOne, quorum, localQuorum, all)`);
      }
      this.consistency = c;
    }
  }

  async open(ctx: SinkContext): Promise<void> {
    this.client = new cassandra.Client({
      contactPoints: this.o.contactPoints,
      localDataCenter: this.o.localDataCenter ?? 'datacenter1',
      // Reconnect every second while a node is down: the default exponential
      // policy can wait minutes after an outage before it tries again.
      policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(1000) },
      socketOptions: { connectTimeout: 5_000, readTimeout: 12_000 },
      applicationName: `sluice-${ctx.job}`,
    });
    // Bounded (--connect-timeout, 15 s by default), and one line when it gives up: the
    // driver's own error is a multi-line dump of every host's socket error.
    const limitMs = this.o.connectForMs ?? ctx.runtime.connectTimeoutMs ?? 15_000;
    const deadline = Date.now() + limitMs;
    const hint = this.o.addressHint ? `: its address is set with ${this.o.addressHint}` : '';
    for (let attempt = 1; ; attempt++) {
      try {
        await this.client.connect();
        break;
      } catch (err) {
        const unresolvable = isUnresolvable(err);
        const delay = this.backoff.delay(attempt);
        if (unresolvable || !isRetryableCassandraError(err) || Date.now() + delay > deadline) {
          await this.client.shutdown().catch(() => {});
          const what = unresolvable ? 'cannot resolve' : 'cannot connect to';
          const when = unresolvable || !isRetryableCassandraError(err) ? '' : ` within ${Math.round(limitMs / 1000)} s`;
          // No `cause`: its message is the dump this line replaces (printed once, here).
          throw new SluiceError(ErrorCodes.SINK, `cassandra sink: ${what} ${this.o.contactPoints.join(',')}${when} (${connectCause(err)})${hint}`);
        }
        await sleep(delay);
      }
    }
    for (const cql of this.o.setup ?? []) {
      try {
        await this.client.execute(cql);
      } catch (err) {
        throw new SluiceError(ErrorCodes.SINK, `cassandra sink: setup statement failed: ${cql}: ${(err as Error).message}`, { cause: err });
      }
    }
    const cols = this.o.columns.join(', ');
    this.insert = `INSERT INTO ${this.o.keyspace}.${this.o.table} (${cols}) VALUES (${this.o.columns.map(() => '?').join(', ')})`;
  }

  /**
   * Writes the epoch's rows once. If some fail, the delivery fails, classified:
   * the runtime's one delivery policy retries the whole epoch (idempotent
   * upserts) with its backoff and budget, and logs each retry.
   */
  async deliver(d: SinkDelivery): Promise<void> {
    const rows = this.rowsOf(d);
    this.stats.deliveries++;
    const { failed, error } = await this.writeAll(rows);
    this.stats.rows += rows.length - failed.length;
    if (failed.length === 0) return;
    const retryable = isRetryableCassandraError(error);
    if (retryable) this.stats.retries++;
    throw new SluiceError(ErrorCodes.SINK, `cassandra sink ${this.o.keyspace}.${this.o.table}: ${failed.length}/${rows.length} rows failed: ${(error as Error).message}`, {
      cause: error,
      retryable,
    });
  }

  /** The rows to write: one per primary key, the last record of each key. */
  private rowsOf(d: SinkDelivery): unknown[][] {
    const r = upsertRows(d.records, this.o.row, this.keyIdx);
    this.stats.superseded += r.superseded;
    return r.rows;
  }

  /** Writes rows with bounded concurrency; returns the rows that failed and the last error. */
  private async writeAll(rows: unknown[][]): Promise<{ failed: unknown[][]; error: unknown }> {
    const failed: unknown[][] = [];
    let error: unknown;
    let next = 0;
    const opts = { prepare: true, isIdempotent: true, consistency: this.consistency };
    const lane = async (): Promise<void> => {
      while (next < rows.length) {
        const row = rows[next++];
        try {
          await this.client.execute(this.insert, row, opts);
        } catch (err) {
          failed.push(row);
          error = err;
          // A non-retryable error fails the delivery anyway: stop issuing writes.
          if (!isRetryableCassandraError(err)) next = rows.length;
        }
      }
    };
    const n = Math.min(this.o.concurrency ?? 32, rows.length);
    await Promise.all(Array.from({ length: n }, lane));
    return { failed, error };
  }

  async close(): Promise<void> {
    await this.client?.shutdown();
  }

  destroy(): void {
    void this.client?.shutdown().catch(() => {});
  }
}

export function cassandraSink(o: CassandraSinkOptions): SinkSpec<SinkDriver> {
  return {
    kind: 'cassandra',
    guarantee: 'exactly-once in effect: idempotent upsert by primary key (INSERT), last record per key in a delivery',
    outbox: true,
    create: () => new CassandraSinkDriver(o),
  };
}

/** For benchmarks and tests that drive a sink directly. */
export function createCassandraSinkDriver(o: CassandraSinkOptions): SinkDriver & { readonly stats: CassandraSinkStats } {
  return new CassandraSinkDriver(o);
}

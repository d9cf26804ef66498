/**
 * HTTP polling source: GETs a JSON API every `intervalMs`, turns each
 * response into records, and remembers in the checkpoint how far it got.
 *
 * Built on the custom source API (engine/contracts/sources.ts): one reader per
 * partition, each polling on its own. Partition p's position, stored by the
 * runtime in the same checkpoint transaction as the state its records
 * produced, is (JSON):
 *
 *   { "v": 1, "seed": "<random hex, fixed at first open>", "poll": <n>, "skip": <k>,
 *     "emitted": <records returned so far>, "activeMs": <ms spent polling so far> }
 *
 * `poll` numbers the requests that returned records (0-based); `skip` is how
 * many records of poll `poll` were already returned. A restart re-issues poll
 * `poll` and drops its first `skip` records. APIs with deterministic paging
 * (randomuser.me's `seed` + `page`) then resume exactly; for others the
 * re-fetched records differ, but none is returned twice. `emitted` and
 * `activeMs` make the count and duration limits hold across restarts.
 *
 * Failures (see http-get.ts for the classification) are retried with
 * exponential backoff and jitter; a 429 or 503 with Retry-After waits at
 * least what the server asked (capped by maxRetryAfterMs). A 4xx other than
 * 429/408 is retried at the maximum backoff: it usually means a wrong URL,
 * which only a person can fix, and the log says so. next() never blocks
 * longer than one attempt, so close() and checkpoints are never held up.
 *
 * A run with `maxDurationMs` in which no poll ever succeeded fails (next()
 * rejects, and the job fails naming the source): it read nothing because the
 * server never answered, which is not the same as having nothing to read.
 *
 * Records larger than `maxRecordBytes` (as JSON) are not returned as they
 * are: a Kafka sink would fail on them (the broker's default
 * message.max.bytes is 1 MB) and stall the job. They become an
 * OversizeRecord, which the source's validate hook rejects, so the runtime
 * dead-letters a short description (size, limit, a preview) and goes on.
 */
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { customSource, type CustomSourceReader, type CustomSourceSpec, type WatermarkSpec } from '../contracts/sources.ts';
import { Lifecycle } from '../runtime/lifecycle.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { getJson, HttpGetError, type HttpFailureKind } from './http-get.ts';

export interface PollRequest {
  partition: number;
  /** 0-based number of the poll (the same after a restart that re-issues it). */
  poll: number;
  /** Random per partition, fixed at first open and kept in the checkpoint. */
  seed: string;
  /** Records still wanted before the count limit (Infinity without one). */
  remaining: number;
}

export interface HttpPollOptions<T> {
  /** Base URL; `query` adds parameters. */
  url: string;
  query?: (req: PollRequest) => Record<string, string | number>;
  /** The records in a parsed response body. Throwing marks the response as bad (retried). */
  records: (body: unknown) => T[];
  /** From the start of one successful poll to the start of the next. Default 1000. */
  intervalMs?: number;
  /** Per request. Default 10 s. */
  timeoutMs?: number;
  headers?: Record<string, string>;
  /** Default 64 MiB. */
  maxBodyBytes?: number;
  /** Default 900 000 bytes of JSON (under Kafka's default 1 MB message limit). */
  maxRecordBytes?: number;
  backoff?: BackoffOptions;
  /** Upper bound on a server's Retry-After. Default 5 min. */
  maxRetryAfterMs?: number;
  /** Stop after this many records per partition. */
  maxRecords?: number;
  /** Stop after polling this long per partition (time spent running, summed across restarts). */
  maxDurationMs?: number;
  /** Default 1. */
  partitions?: number;
  validate?: (value: T) => string | undefined;
  timestamp?: (value: T) => number;
  watermark?: WatermarkSpec;
  /** Where retries are reported. Default stderr. */
  log?: (message: string) => void;
}

export interface PollSnapshot {
  v: 1;
  seed: string;
  poll: number;
  skip: number;
  emitted: number;
  activeMs: number;
}

/** Stands in for a record over maxRecordBytes; rejected by the source's validate hook. */
export class OversizeRecord {
  readonly oversize = true;
  constructor(
    readonly bytes: number,
    readonly limit: number,
    /** The first 1 KB of the record's JSON, enough to identify it. */
    readonly preview: string,
  ) {}
}

export type PollState = 'READY' | 'WAITING' | 'FETCHING' | 'BACKING_OFF' | 'FINISHED' | 'CLOSED';

const LEGAL: Record<PollState, readonly PollState[]> = {
  READY: ['WAITING', 'FETCHING', 'FINISHED', 'CLOSED'],
  WAITING: ['FETCHING', 'READY', 'FINISHED', 'CLOSED'],
  FETCHING: ['READY', 'BACKING_OFF', 'FINISHED', 'CLOSED'],
  BACKING_OFF: ['FETCHING', 'READY', 'FINISHED', 'CLOSED'],
  FINISHED: ['CLOSED'],
  CLOSED: [],
};

export interface PollStats {
  polls: number;
  records: number;
  failures: Partial<Record<HttpFailureKind | 'bad_records', number>>;
  oversize: number;
  lastError?: string;
  /** The delay chosen after each failure, in order (for tests and diagnosis). */
  delays: number[];
  /** The shortest time from one successful poll's start to the next poll's start, by this reader's clock. */
  minPollGapMs?: number;
}

export class HttpPollReader<T> implements CustomSourceReader<T | OversizeRecord> {
  readonly lifecycle = new Lifecycle<PollState>('http poll source', 'READY', LEGAL);
  readonly stats: PollStats = { polls: 0, records: 0, failures: {}, oversize: 0, delays: [] };
  private readonly pos: PollSnapshot;
  private buffer: Array<T | OversizeRecord> = [];
  private nextAt = 0;
  private lastPollStart: number | undefined;
  private attempts = 0;
  private lastTick: number;
  private readonly abort = new AbortController();
  private readonly backoff: Backoff;
  private readonly log: (m: string) => void;

  constructor(
    private readonly o: HttpPollOptions<T>,
    private readonly partition: number,
    resume: unknown,
  ) {
    this.pos = isSnapshot(resume) ? { ...resume } : { v: 1, seed: randomBytes(8).toString('hex'), poll: 0, skip: 0, emitted: 0, activeMs: 0 };
    this.backoff = new Backoff(o.backoff);
    this.log = o.log ?? ((m) => void process.stderr.write(`sluice: http-poll p${partition}: ${m}\n`));
    this.lastTick = Date.now();
  }

  get state(): PollState {
    return this.lifecycle.state;
  }

  snapshot(): PollSnapshot {
    this.account();
    return { ...this.pos };
  }

  async next(max: number): Promise<Array<T | OversizeRecord> | null> {
    if (this.lifecycle.is('CLOSED', 'FINISHED')) return null;
    this.account();
    if (this.limitReached()) {
      this.lifecycle.transition('FINISHED');
      // A run that never got an answer did not "read everything": it failed, and says why.
      if (this.stats.polls === 0 && this.pos.poll === 0 && this.pos.emitted === 0 && this.stats.lastError !== undefined) {
        throw new SluiceError(ErrorCodes.SOURCE, `no successful poll of ${this.o.url} in ${this.o.maxDurationMs} ms (last error: ${this.stats.lastError})`);
      }
      return null;
    }
    if (this.buffer.length === 0) {
      const wait = this.nextAt - Date.now();
      if (wait > 0) {
        if (this.lifecycle.is('READY')) this.lifecycle.transition('WAITING');
        // Never past the duration limit, so a run "for one minute" ends on time.
        const left = this.o.maxDurationMs === undefined ? wait : Math.min(wait, Math.max(1, this.o.maxDurationMs - this.pos.activeMs));
        await sleep(left, undefined, { signal: this.abort.signal }).catch(() => {});
        if (this.lifecycle.is('CLOSED')) return null;
        if (Date.now() < this.nextAt) return [];
      }
      await this.fetchOnce();
      if (this.buffer.length === 0) return this.lifecycle.is('CLOSED') ? null : [];
    }
    const out = this.buffer.length <= max ? this.buffer : this.buffer.slice(0, max);
    this.buffer = this.buffer.length <= max ? [] : this.buffer.slice(max);
    this.pos.emitted += out.length;
    if (this.buffer.length === 0) {
      this.pos.poll++;
      this.pos.skip = 0;
    } else {
      this.pos.skip += out.length;
    }
    return out;
  }

  async close(): Promise<void> {
    if (this.lifecycle.is('CLOSED')) return;
    this.lifecycle.transition('CLOSED');
    this.abort.abort();
  }

  private remaining(): number {
    return this.o.maxRecords === undefined ? Infinity : this.o.maxRecords - this.pos.emitted;
  }

  private limitReached(): boolean {
    return this.remaining() <= 0 || (this.o.maxDurationMs !== undefined && this.pos.activeMs >= this.o.maxDurationMs);
  }

  /** Adds the time since the last call to the running total (the duration limit counts running time only). */
  private account(): void {
    const now = Date.now();
    if (!this.lifecycle.is('CLOSED', 'FINISHED')) this.pos.activeMs += now - this.lastTick;
    this.lastTick = now;
  }

  private async fetchOnce(): Promise<void> {
    this.lifecycle.transition('FETCHING');
    const started = Date.now();
    if (this.lastPollStart !== undefined) {
      const gap = started - this.lastPollStart;
      if (this.stats.minPollGapMs === undefined || gap < this.stats.minPollGapMs) this.stats.minPollGapMs = gap;
    }
    const req: PollRequest = { partition: this.partition, poll: this.pos.poll, seed: this.pos.seed, remaining: this.remaining() };
    const url = withQuery(this.o.url, this.o.query?.(req));
    try {
      const res = await getJson(url, {
        timeoutMs: this.o.timeoutMs ?? 10_000,
        maxBodyBytes: this.o.maxBodyBytes ?? 64 * 1024 * 1024,
        headers: this.o.headers,
        signal: this.abort.signal,
      });
      let records: T[];
      try {
        records = this.o.records(res.body);
        if (!Array.isArray(records)) throw new TypeError(`records() returned ${typeof records}, not an array`);
      } catch (err) {
        throw new HttpGetError('bad_body', `${url}: unexpected response shape: ${(err as Error).message}`, res.status, undefined, err);
      }
      this.stats.polls++;
      this.lastPollStart = started;
      this.attempts = 0;
      this.nextAt = started + (this.o.intervalMs ?? 1000);
      let batch: Array<T | OversizeRecord> = records;
      if (this.pos.skip > 0) batch = batch.slice(this.pos.skip);
      const rem = this.remaining();
      if (batch.length > rem) batch = batch.slice(0, rem);
      // Only a body bigger than the limit can hold an oversize record: skip the per-record work otherwise.
      const limit = this.o.maxRecordBytes ?? 900_000;
      if (res.bytes > limit) batch = batch.map((r) => this.sizeCheck(r as T, limit));
      this.stats.records += batch.length;
      if (batch.length === 0) {
        // An empty page: nothing to resume inside it.
        this.pos.poll++;
        this.pos.skip = 0;
      }
      this.buffer = batch;
      if (this.lifecycle.is('FETCHING')) this.lifecycle.transition('READY');
    } catch (err) {
      if (this.lifecycle.is('CLOSED')) return;
      this.onFailure(err, url);
    }
  }

  private sizeCheck(r: T, limit: number): T | OversizeRecord {
    const json = JSON.stringify(r);
    const bytes = Buffer.byteLength(json);
    if (bytes <= limit) return r;
    this.stats.oversize++;
    return new OversizeRecord(bytes, limit, json.slice(0, 1024));
  }

  private onFailure(err: unknown, url: string): void {
    const e = err instanceof HttpGetError ? err : new HttpGetError('network', `${url}: ${(err as Error).message}`, undefined, undefined, err);
    this.stats.failures[e.kind] = (this.stats.failures[e.kind] ?? 0) + 1;
    this.stats.lastError = e.message;
    this.attempts++;
    let delay = e.kind === 'client' ? this.backoff.maxMs : this.backoff.delay(this.attempts);
    if (e.retryAfterMs !== undefined) delay = Math.max(delay, Math.min(e.retryAfterMs, this.o.maxRetryAfterMs ?? 300_000));
    this.stats.delays.push(delay);
    this.nextAt = Date.now() + delay;
    this.lifecycle.transition('BACKING_OFF');
    const hint = e.kind === 'client' ? ' (a client error: check the URL and parameters)' : '';
    this.log(`${e.message}${hint}; attempt ${this.attempts}, retrying in ${delay} ms`);
  }
}

/** The custom source spec: one HttpPollReader per partition. */
export function httpPollSource<T>(o: HttpPollOptions<T>): CustomSourceSpec<T | OversizeRecord> {
  const userValidate = o.validate;
  return customSource<T | OversizeRecord>({
    partitions: o.partitions ?? 1,
    open: (p, resume) => new HttpPollReader<T>(o, p, resume),
    validate: (v) => {
      if (v instanceof OversizeRecord) return `record of ${v.bytes} bytes is over maxRecordBytes (${v.limit})`;
      return userValidate?.(v);
    },
    timestamp: o.timestamp ? (v) => (v instanceof OversizeRecord ? Date.now() : o.timestamp!(v)) : undefined,
    watermark: o.watermark,
  });
}

function withQuery(base: string, q: Record<string, string | number> | undefined): string {
  if (!q) return base;
  const u = new URL(base);
  for (const [k, v] of Object.entries(q)) u.searchParams.set(k, String(v));
  return u.toString();
}

function isSnapshot(x: unknown): x is PollSnapshot {
  const s = x as PollSnapshot | undefined;
  return typeof s === 'object' && s !== null && s.v === 1 && typeof s.seed === 'string' && Number.isInteger(s.poll) && Number.isInteger(s.skip);
}

/**
 * A Server-Sent Events source: a custom source (engine/contracts/sources.ts) over a
 * long-lived SSE stream, such as Wikimedia's EventStreams (the default URL).
 *
 * Position: the SSE last event id. The runtime stores `snapshot()` (the id of
 * the last event handed to it) in each checkpoint; after a restart the reader
 * connects with `Last-Event-ID: <that id>` and the server resumes right after
 * it, so nothing is skipped and nothing checkpointed is read twice. The same
 * header is sent on every reconnect, with the id of the last event received.
 *
 * Reader lifecycle (an illegal transition throws):
 *
 *   IDLE ──start──▶ CONNECTING ──200──▶ STREAMING ──eof / error──▶ BACKOFF ──timer──▶ CONNECTING
 *                       │   └──────── retryable error ──────────────▲
 *                       ├── HTTP 204 (spec: do not reconnect) ──▶ DONE
 *                       └── non-retryable error (4xx, bad URL) ──▶ FAILED
 *   any state ──close()──▶ CLOSED
 *
 * Reconnects back off exponentially with jitter (engine/sources/backoff.ts),
 * never sooner than the server's `retry:` field; the attempt count resets once
 * a connection delivers an event. A connection silent for `idleTimeoutMs`
 * (no event, comment or heartbeat) is dropped and reopened.
 *
 * Events wait in a bounded buffer until the runtime pulls them; above
 * `maxBuffered` the socket is paused (TCP backpressure on the server).
 *
 * Data that `decode` rejects does not stop the stream: the record becomes an
 * `SseUndecodable`, which the source's `validate` hook turns into a
 * dead-letter record with the raw data and the parse error.
 */
import type { CustomSourceReader, CustomSourceSpec, WatermarkSpec } from '../contracts/sources.ts';
import { Lifecycle } from '../runtime/lifecycle.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { SseConnection, type SseEnd } from './sse-connection.ts';

export const WIKIMEDIA_RECENTCHANGE_URL = 'https://stream.wikimedia.org/v2/stream/recentchange';

/** Wikimedia asks API clients to identify themselves (User-Agent policy). */
export const DEFAULT_USER_AGENT = 'sluice/0.1 (https://github.com/sluice; stream-processing engine) node';

export interface SseSourceOptions<T> {
  /** Default: Wikimedia's recentchange stream. */
  url?: string;
  headers?: Record<string, string>;
  /** Event types that become records; others are counted and skipped. Default ['message']. */
  eventTypes?: readonly string[];
  /** Turns an event's data into a record. Default JSON.parse. */
  decode?: (data: string) => T;
  /** Reconnect delays. Default 1 s doubling to 30 s, jitter 0.5. */
  backoff?: BackoffOptions;
  /** Drop a connection silent for this long. Default 60 s. */
  idleTimeoutMs?: number;
  /** Default 15 s. */
  connectTimeoutMs?: number;
  /** Events held before the socket is paused. Default 10,000. */
  maxBuffered?: number;
  /** How long next() waits for a first event before answering []. Default 200 ms. */
  waitMs?: number;
  timestamp?(value: T): number;
  watermark?: WatermarkSpec;
  /** Extra validation of decoded records (decode failures are rejected before it runs). */
  validate?(value: T): string | undefined;
  /** Observes connection events (tests and logs). */
  onEvent?(e: SseSourceEvent): void;
}

export type SseSourceEvent =
  | { type: 'connecting'; attempt: number; lastEventId: string | undefined }
  | { type: 'open' }
  | { type: 'ended'; end: SseEnd['kind']; error?: string }
  | { type: 'backoff'; delayMs: number };

/** A record whose data `decode` threw on: dead-lettered by the source's validate hook. */
export interface SseUndecodable {
  readonly sse_undecodable: true;
  readonly data: string;
  readonly error: string;
  readonly id: string | undefined;
}

export function isUndecodable(v: unknown): v is SseUndecodable {
  return typeof v === 'object' && v !== null && (v as SseUndecodable).sse_undecodable === true;
}

type ReaderState = 'IDLE' | 'CONNECTING' | 'STREAMING' | 'BACKOFF' | 'DONE' | 'FAILED' | 'CLOSED';

const LEGAL: Record<ReaderState, readonly ReaderState[]> = {
  IDLE: ['CONNECTING', 'CLOSED'],
  CONNECTING: ['STREAMING', 'BACKOFF', 'DONE', 'FAILED', 'CLOSED'],
  STREAMING: ['BACKOFF', 'DONE', 'FAILED', 'CLOSED'],
  BACKOFF: ['CONNECTING', 'CLOSED'],
  DONE: ['CLOSED'],
  FAILED: ['CLOSED'],
  CLOSED: [],
};

export interface SseReaderStats {
  connects: number;
  events: number;
  skippedTypes: number;
  comments: number;
  bytes: number;
  undecodable: number;
  lastError?: string;
}

export class SseReader<T> implements CustomSourceReader<T | SseUndecodable> {
  readonly lifecycle = new Lifecycle<ReaderState>('sse reader', 'IDLE', LEGAL);
  readonly stats: SseReaderStats = { connects: 0, events: 0, skippedTypes: 0, comments: 0, bytes: 0, undecodable: 0 };
  private conn: SseConnection | undefined;
  private readonly backoff: Backoff;
  private readonly types: ReadonlySet<string>;
  private readonly decode: (data: string) => T;
  private readonly maxBuffered: number;
  /** Records not yet handed out, and the stream's last event id after each. */
  private buf: Array<T | SseUndecodable> = [];
  private bufIds: Array<string | undefined> = [];
  /** The id after the last record handed to the runtime: the checkpointed position. */
  private handedOutId: string | undefined;
  /** The id after the last event received (what a reconnect resumes from). */
  private receivedId: string | undefined;
  private attempt = 0;
  private serverRetryMs = 0;
  private failure: SluiceError | undefined;
  private timer: NodeJS.Timeout | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly o: SseSourceOptions<T>,
    resume: unknown,
  ) {
    if (resume !== undefined && resume !== null && typeof resume !== 'string') {
      throw new SluiceError(ErrorCodes.STATE, `sse source: checkpointed position is not an event id string: ${JSON.stringify(resume)}`);
    }
    this.handedOutId = this.receivedId = (resume as string | null | undefined) ?? undefined;
    this.backoff = new Backoff({ initialMs: 1000, maxMs: 30_000, ...o.backoff });
    this.types = new Set(o.eventTypes ?? ['message']);
    this.decode = o.decode ?? ((d) => JSON.parse(d) as T);
    this.maxBuffered = o.maxBuffered ?? 10_000;
  }

  get state(): ReaderState {
    return this.lifecycle.state;
  }

  get buffered(): number {
    return this.buf.length;
  }

  async next(max: number): Promise<Array<T | SseUndecodable> | null> {
    if (this.lifecycle.is('IDLE')) this.connect();
    if (this.buf.length === 0) {
      if (this.lifecycle.is('DONE', 'CLOSED')) return null;
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, this.o.waitMs ?? 200);
        this.wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.wake = undefined;
      if (this.buf.length === 0) {
        if (this.lifecycle.is('DONE', 'CLOSED')) return null;
        if (this.failure) throw this.failure;
        return [];
      }
    }
    const n = Math.min(max, this.buf.length);
    const out = this.buf.slice(0, n);
    this.handedOutId = this.bufIds[n - 1];
    this.buf = this.buf.slice(n);
    this.bufIds = this.bufIds.slice(n);
    if (this.buf.length <= this.maxBuffered / 2) this.conn?.resume();
    return out;
  }

  /** The last event id handed out: where a restart resumes. JSON-serializable (string or null). */
  snapshot(): unknown {
    return this.handedOutId ?? null;
  }

  async close(): Promise<void> {
    if (this.lifecycle.is('CLOSED')) return;
    this.lifecycle.transition('CLOSED');
    clearTimeout(this.timer);
    this.conn?.close();
    this.conn = undefined;
    this.wake?.();
  }

  private connect(): void {
    this.lifecycle.transition('CONNECTING');
    this.attempt++;
    this.stats.connects++;
    this.o.onEvent?.({ type: 'connecting', attempt: this.attempt, lastEventId: this.receivedId });
    const conn = new SseConnection(
      {
        url: this.o.url ?? WIKIMEDIA_RECENTCHANGE_URL,
        lastEventId: this.receivedId,
        headers: { 'user-agent': DEFAULT_USER_AGENT, ...this.o.headers },
        idleTimeoutMs: this.o.idleTimeoutMs ?? 60_000,
        connectTimeoutMs: this.o.connectTimeoutMs ?? 15_000,
      },
      {
        open: () => {
          if (conn !== this.conn) return;
          this.lifecycle.transition('STREAMING');
          this.o.onEvent?.({ type: 'open' });
        },
        event: (type, data, id) => {
          if (conn !== this.conn) return;
          this.onEvent(type, data, id);
        },
        retry: (ms) => (this.serverRetryMs = ms),
        comment: () => this.stats.comments++,
        ended: (end) => {
          if (conn !== this.conn) return;
          this.stats.bytes += conn.bytes;
          this.onEnded(end);
        },
      },
    );
    this.conn = conn;
    conn.open();
  }

  private onEvent(type: string, data: string, id: string | undefined): void {
    this.receivedId = id;
    if (!this.types.has(type)) {
      this.stats.skippedTypes++;
      return;
    }
    this.stats.events++;
    this.attempt = 0;
    let rec: T | SseUndecodable;
    try {
      rec = this.decode(data);
    } catch (err) {
      this.stats.undecodable++;
      rec = { sse_undecodable: true, data, error: (err as Error).message, id };
    }
    this.buf.push(rec);
    this.bufIds.push(id);
    if (this.buf.length >= this.maxBuffered) this.conn?.pause();
    this.wake?.();
  }

  private onEnded(end: SseEnd): void {
    this.conn = undefined;
    this.o.onEvent?.({ type: 'ended', end: end.kind, error: end.kind === 'error' ? end.error.message : undefined });
    if (this.lifecycle.is('CLOSED')) return;
    if (end.kind === 'no-content') {
      this.lifecycle.transition('DONE');
      this.wake?.();
      return;
    }
    if (end.kind === 'error' && !end.error.retryable) {
      this.stats.lastError = end.error.message;
      this.failure = end.error;
      this.lifecycle.transition('FAILED');
      this.wake?.();
      return;
    }
    if (end.kind === 'error') this.stats.lastError = end.error.message;
    this.lifecycle.transition('BACKOFF');
    const retryAfter = end.kind === 'error' ? (end.retryAfterMs ?? 0) : 0;
    const delayMs = Math.max(this.serverRetryMs, retryAfter, this.backoff.delay(Math.max(1, this.attempt)));
    this.o.onEvent?.({ type: 'backoff', delayMs });
    this.timer = setTimeout(() => {
      if (this.lifecycle.is('BACKOFF')) this.connect();
    }, delayMs);
  }
}

/** The source spec for a job's `sources`. One partition: an SSE stream is one ordered sequence. */
export function sseSource<T = unknown>(o: SseSourceOptions<T> = {}): CustomSourceSpec<T | SseUndecodable> {
  const userValidate = o.validate;
  const userTimestamp = o.timestamp;
  return {
    kind: 'custom',
    partitions: 1,
    open: (_partition, resume) => new SseReader<T>(o, resume),
    watermark: o.watermark,
    timestamp: userTimestamp ? (v) => (isUndecodable(v) ? NaN : userTimestamp(v)) : undefined,
    validate: (v) => {
      if (isUndecodable(v)) return `undecodable event data: ${v.error}`;
      return userValidate?.(v);
    },
  };
}

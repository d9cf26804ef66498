/**
 * One Server-Sent Events connection: an HTTP(S) GET that streams
 * `text/event-stream`, parsed incrementally by eventsource-parser (a
 * maintained parser of the WHATWG rules, the same ones engine/sources/
 * sse-parse.ts applies to whole recordings: CR, LF and CRLF line ends split
 * anywhere, comments, `retry:`, a leading BOM).
 *
 * Bytes are decoded with a streaming TextDecoder, so a UTF-8 character split
 * across two TCP packets decodes whole. The connection never reconnects by
 * itself: it reports how it ended and the reader (sse-source.ts) decides.
 *
 * Backpressure is TCP's: `pause()` stops reading the socket, so the server's
 * writes block once the kernel buffers fill; `resume()` reads again.
 */
import http from 'node:http';
import https from 'node:https';
import { createParser, type EventSourceParser } from 'eventsource-parser';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { parseRetryAfter } from './backoff.ts';

export interface SseConnectOptions {
  url: string;
  /** Sent as `Last-Event-ID` when defined (the position to resume after). */
  lastEventId?: string;
  headers?: Record<string, string>;
  /** No byte (event, comment or heartbeat) for this long ends the connection as `idle`. */
  idleTimeoutMs: number;
  /** Connect and response-header timeout. */
  connectTimeoutMs: number;
  maxRedirects?: number;
}

export interface SseHandlers {
  /** A dispatched event. `id` is the connection's last event id after this event (spec: it persists across events). */
  event(type: string, data: string, id: string | undefined): void;
  /** The server asked for this reconnection delay. */
  retry(ms: number): void;
  comment?(text: string): void;
  /** The stream is open (HTTP 200 with an event-stream body). */
  open(): void;
  /** The connection is over; called exactly once. */
  ended(end: SseEnd): void;
}

/**
 * How a connection ended:
 *   eof         the server closed the stream (normal for SSE: reconnect)
 *   no-content  HTTP 204: per the spec, the server asks the client not to reconnect
 *   error       network error, timeout, idle, 5xx, 429 ... (retryable says which)
 *   closed      we closed it
 */
export type SseEnd =
  | { kind: 'eof' }
  | { kind: 'no-content' }
  | { kind: 'closed' }
  | { kind: 'error'; error: SluiceError; retryAfterMs?: number };

export class SseConnection {
  private req: http.ClientRequest | undefined;
  private res: http.IncomingMessage | undefined;
  private done = false;
  private paused = false;
  private lastId: string | undefined;
  private readonly decoder = new TextDecoder('utf-8');
  private readonly parser: EventSourceParser;
  bytes = 0;

  constructor(
    private readonly o: SseConnectOptions,
    private readonly h: SseHandlers,
  ) {
    this.lastId = o.lastEventId;
    this.parser = createParser({
      // The id persists across events until another id field; an empty one resets it (spec 9.2.6).
      onId: (id) => (this.lastId = id === '' ? undefined : id),
      onEvent: (m) => this.h.event(m.event ?? 'message', m.data, this.lastId),
      onRetry: (ms) => this.h.retry(ms),
      onComment: (c) => this.h.comment?.(c),
      // Malformed lines are skipped by the parser; nothing to do but go on.
      onError: () => {},
    });
  }

  get lastEventId(): string | undefined {
    return this.lastId;
  }

  open(): void {
    this.request(this.o.url, this.o.maxRedirects ?? 5);
  }

  /** Stops reading. The idle timeout is off meanwhile: silence is ours, not the server's. */
  pause(): void {
    if (this.paused) return;
    this.paused = true;
    if (this.res) {
      this.res.pause();
      this.req?.setTimeout(0);
    }
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    if (this.res) {
      this.req?.setTimeout(this.o.idleTimeoutMs);
      this.res.resume();
    }
  }

  close(): void {
    this.finish({ kind: 'closed' });
  }

  private request(url: string, redirectsLeft: number): void {
    let u: URL;
    try {
      u = new URL(url);
    } catch (err) {
      this.fail(new SluiceError(ErrorCodes.CONFIG, `sse: bad URL ${url}`, { cause: err }));
      return;
    }
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!lib) {
      this.fail(new SluiceError(ErrorCodes.CONFIG, `sse: unsupported protocol in ${url}`));
      return;
    }
    const headers: Record<string, string> = {
      accept: 'text/event-stream',
      'cache-control': 'no-cache',
      ...this.o.headers,
    };
    if (this.o.lastEventId !== undefined) headers['last-event-id'] = this.o.lastEventId;
    const req = lib.request(u, { method: 'GET', headers, timeout: this.o.connectTimeoutMs });
    this.req = req;
    req.on('timeout', () => {
      const what = this.res ? `no data for ${this.o.idleTimeoutMs} ms` : `no response within ${this.o.connectTimeoutMs} ms`;
      this.fail(new SluiceError(ErrorCodes.TIMEOUT, `sse ${u.host}: ${what}`, { retryable: true }));
    });
    req.on('error', (err) => {
      this.fail(new SluiceError(ErrorCodes.SOURCE, `sse ${u.host}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, { retryable: true, cause: err }));
    });
    req.on('response', (res) => this.onResponse(u, res, redirectsLeft));
    req.end();
  }

  private onResponse(u: URL, res: http.IncomingMessage, redirectsLeft: number): void {
    if (this.done) {
      res.destroy();
      return;
    }
    const status = res.statusCode ?? 0;
    if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
      res.resume();
      this.req?.destroy();
      if (redirectsLeft <= 0) {
        this.fail(new SluiceError(ErrorCodes.SOURCE, `sse ${u.host}: too many redirects`, { retryable: false }));
        return;
      }
      this.request(new URL(res.headers.location, u).href, redirectsLeft - 1);
      return;
    }
    if (status === 204) {
      res.resume();
      this.finish({ kind: 'no-content' });
      return;
    }
    if (status !== 200) {
      res.resume();
      const retryable = status === 408 || status === 429 || status >= 500;
      const retryAfterMs = parseRetryAfter(res.headers['retry-after'] as string | undefined);
      this.fail(new SluiceError(ErrorCodes.SOURCE, `sse ${u.href}: HTTP ${status}`, { retryable }), retryAfterMs);
      return;
    }
    const type = String(res.headers['content-type'] ?? '');
    if (!type.toLowerCase().startsWith('text/event-stream')) {
      res.resume();
      this.fail(new SluiceError(ErrorCodes.SOURCE, `sse ${u.href}: content-type is "${type}", not text/event-stream`, { retryable: true }));
      return;
    }
    this.res = res;
    // From here on the socket timeout means "silent for too long": heartbeats reset it.
    if (this.paused) {
      res.pause();
      this.req?.setTimeout(0);
    } else this.req?.setTimeout(this.o.idleTimeoutMs);
    res.on('data', (chunk: Buffer) => {
      if (this.done) return;
      this.bytes += chunk.length;
      this.parser.feed(this.decoder.decode(chunk, { stream: true }));
    });
    res.on('end', () => {
      // An event without its terminating blank line is incomplete: the spec discards it.
      this.finish({ kind: 'eof' });
    });
    // 'close' without 'end': the connection dropped mid-stream.
    res.on('close', () => this.fail(new SluiceError(ErrorCodes.SOURCE, `sse ${u.host}: connection closed mid-stream`, { retryable: true })));
    res.on('error', (err) => this.fail(new SluiceError(ErrorCodes.SOURCE, `sse ${u.host}: ${err.message}`, { retryable: true, cause: err })));
    this.h.open();
  }

  private fail(error: SluiceError, retryAfterMs?: number): void {
    this.finish({ kind: 'error', error, retryAfterMs });
  }

  private finish(end: SseEnd): void {
    if (this.done) return;
    this.done = true;
    this.res?.removeAllListeners('data');
    this.req?.destroy();
    this.res?.destroy();
    this.h.ended(end);
  }
}

/**
 * One HTTP GET of a JSON document, with a timeout, a body size limit and an
 * error classification that a poller can act on:
 *
 *   kind        retryable  when
 *   ----------  ---------  ------------------------------------------------
 *   rate_limit  yes        429, or 503 with Retry-After (retryAfterMs set if sent)
 *   server      yes        5xx, 408
 *   timeout     yes        no complete response within timeoutMs
 *   network     yes        refused, reset, DNS failure ...
 *   bad_body    yes        2xx but not JSON, or over maxBodyBytes (APIs under
 *                          load answer with HTML error pages and cut bodies)
 *   client      no         other 4xx: the request itself is wrong
 *
 * Uses Node's built-in fetch (undici); the body is read as a stream so an
 * oversized one is cut off at the limit instead of filling memory.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import { parseRetryAfter } from './backoff.ts';

export type HttpFailureKind = 'rate_limit' | 'server' | 'timeout' | 'network' | 'bad_body' | 'client';

export class HttpGetError extends SluiceError {
  constructor(
    readonly kind: HttpFailureKind,
    message: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
    cause?: unknown,
  ) {
    super(kind === 'timeout' ? ErrorCodes.TIMEOUT : ErrorCodes.SOURCE, message, { retryable: kind !== 'client', cause });
    this.name = 'HttpGetError';
  }
}

export interface HttpGetOptions {
  timeoutMs: number;
  maxBodyBytes: number;
  headers?: Record<string, string>;
  /** Aborts the request (the source is closing). */
  signal?: AbortSignal;
}

export interface HttpGetResult {
  status: number;
  body: unknown;
  /** Size of the body in bytes. */
  bytes: number;
}

export async function getJson(url: string, o: HttpGetOptions): Promise<HttpGetResult> {
  const timeout = AbortSignal.timeout(o.timeoutMs);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: 'application/json', ...o.headers }, signal, redirect: 'follow' });
  } catch (err) {
    throw classifyThrown(err, timeout, o.timeoutMs, url);
  }
  if (res.status < 200 || res.status >= 300) {
    // Drain a little of the body for the message, then drop the connection's remainder.
    const text = await readText(res, 512, signal).catch(() => '');
    const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
    const detail = `${url}: HTTP ${res.status}${text ? ` (${oneLine(text)})` : ''}`;
    if (res.status === 429 || (res.status === 503 && retryAfterMs !== undefined)) {
      throw new HttpGetError('rate_limit', detail, res.status, retryAfterMs);
    }
    if (res.status >= 500 || res.status === 408) throw new HttpGetError('server', detail, res.status, retryAfterMs);
    throw new HttpGetError('client', detail, res.status);
  }
  let text: string;
  let bytes: number;
  try {
    ({ text, bytes } = await readLimited(res, o.maxBodyBytes, signal));
  } catch (err) {
    if (err instanceof HttpGetError) throw err;
    throw classifyThrown(err, timeout, o.timeoutMs, url);
  }
  try {
    return { status: res.status, body: JSON.parse(text), bytes };
  } catch (err) {
    throw new HttpGetError('bad_body', `${url}: HTTP ${res.status} body is not JSON: ${oneLine(text.slice(0, 120))}`, res.status, undefined, err);
  }
}

function classifyThrown(err: unknown, timeout: AbortSignal, timeoutMs: number, url: string): SluiceError {
  if (timeout.aborted) return new HttpGetError('timeout', `${url}: no response within ${timeoutMs} ms`, undefined, undefined, err);
  if ((err as Error)?.name === 'AbortError') return new SluiceError(ErrorCodes.ABORTED, `${url}: request aborted`, { cause: err });
  const cause = (err as { cause?: { code?: string; message?: string } })?.cause;
  const why = cause?.code ?? cause?.message ?? (err as Error)?.message ?? String(err);
  return new HttpGetError('network', `${url}: ${why}`, undefined, undefined, err);
}

async function readLimited(res: Response, max: number, signal: AbortSignal): Promise<{ text: string; bytes: number }> {
  const declared = Number(res.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    await res.body?.cancel().catch(() => {});
    throw new HttpGetError('bad_body', `${res.url}: body of ${declared} bytes is over the ${max}-byte limit`, res.status);
  }
  if (!res.body) return { text: '', bytes: 0 };
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  const reader = res.body.getReader();
  for (;;) {
    if (signal.aborted) throw signal.reason;
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > max) {
      await reader.cancel().catch(() => {});
      throw new HttpGetError('bad_body', `${res.url}: body is over the ${max}-byte limit`, res.status);
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks, bytes).toString('utf8'), bytes };
}

/** The first `max` bytes of an error body, for the message; the rest is dropped with the connection. */
async function readText(res: Response, max: number, signal: AbortSignal): Promise<string> {
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  while (bytes < max && !signal.aborted) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    bytes += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return Buffer.concat(chunks).subarray(0, max).toString('utf8');
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, ' ').trim().slice(0, 200);
}

/**
 * The HTTP polling source against a local HTTP server serving the recorded
 * randomuser responses: paging, limits, every failure class and its retry
 * timing, Retry-After, and resuming from a snapshot.
 */
import { describe, expect, it } from 'vitest';
import { Backoff, parseRetryAfter } from '../../engine/sources/backoff.ts';
import { HttpPollReader, OversizeRecord, httpPollSource, type HttpPollOptions } from '../../engine/sources/http-poll.ts';
import { recordedUsers, startRandomUserServer, type RandomUser } from '../helpers/randomuser-server.ts';

const pool = recordedUsers();
const uuids = (xs: unknown[]): string[] => xs.map((x) => (x as RandomUser).login.uuid);

function options(url: string, o: Partial<HttpPollOptions<RandomUser>> = {}): HttpPollOptions<RandomUser> {
  return {
    url,
    query: (r) => ({ results: 50, page: r.poll + 1, seed: r.seed }),
    records: (body) => (body as { results: RandomUser[] }).results,
    intervalMs: 0,
    timeoutMs: 2_000,
    backoff: { initialMs: 20, maxMs: 400, jitter: 0 },
    log: () => {},
    ...o,
  };
}

/** Calls next() until it returns null (or `until` records arrived). */
async function drain(r: HttpPollReader<RandomUser>, max = 1024, until = Infinity): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < 10_000 && out.length < until; i++) {
    const b = await r.next(max);
    if (b === null) break;
    out.push(...b);
  }
  return out;
}

describe('Backoff', () => {
  it('grows exponentially to the cap, jitter only shortens', () => {
    const b = new Backoff({ initialMs: 100, maxMs: 1000, multiplier: 2, jitter: 0 });
    expect([1, 2, 3, 4, 5, 6].map((n) => b.delay(n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    const j = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0.5 });
    for (let n = 1; n <= 6; n++) {
      const base = Math.min(1000, 100 * 2 ** (n - 1));
      for (let k = 0; k < 50; k++) {
        const d = j.delay(n);
        expect(d).toBeGreaterThanOrEqual(base / 2);
        expect(d).toBeLessThanOrEqual(base);
      }
    }
  });

  it('parses Retry-After seconds and dates', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('HttpPollReader', () => {
  it('pages through the API at the batch size and stops at the count, across several requests', async () => {
    const srv = await startRandomUserServer();
    const r = new HttpPollReader(options(srv.url, { maxRecords: 120 }), 0, undefined);
    const got = await drain(r);
    expect(uuids(got)).toEqual(uuids(pool.slice(0, 120)));
    expect(srv.requests.map((q) => q.query.page)).toEqual(['1', '2', '3']);
    expect(new Set(srv.requests.map((q) => q.query.seed)).size).toBe(1);
    expect(r.state).toBe('FINISHED');
  });

  it('keeps the interval between polls', async () => {
    const srv = await startRandomUserServer();
    const r = new HttpPollReader(options(srv.url, { maxRecords: 200, intervalMs: 300 }), 0, undefined);
    await drain(r);
    // The interval runs from one poll's start to the next's, by the reader's
    // clock. (At the server the gaps can come out shorter by any amount on a
    // loaded machine, when one request is delayed on its way and the next is not.)
    expect(srv.requests).toHaveLength(4);
    expect(r.stats.polls).toBe(4);
    expect(r.stats.minPollGapMs).toBeGreaterThanOrEqual(300);
  });

  it('retries 500s with exponential backoff, then delivers every record once', async () => {
    const srv = await startRandomUserServer();
    srv.fail({ status: 500 }, { status: 502 }, { status: 503 });
    const r = new HttpPollReader(options(srv.url, { maxRecords: 60 }), 0, undefined);
    const got = await drain(r);
    expect(uuids(got)).toEqual(uuids(pool.slice(0, 60)));
    expect(r.stats.failures.server).toBe(3);
    expect(r.stats.delays).toEqual([20, 40, 80]);
    const at = srv.requests.map((q) => q.at);
    expect(at[1] - at[0]).toBeGreaterThanOrEqual(18);
    expect(at[2] - at[1]).toBeGreaterThanOrEqual(38);
    expect(at[3] - at[2]).toBeGreaterThanOrEqual(78);
  });

  it('honours 429 Retry-After over its own shorter backoff', async () => {
    const srv = await startRandomUserServer();
    srv.fail({ status: 429, retryAfter: '1' });
    const r = new HttpPollReader(options(srv.url, { maxRecords: 50 }), 0, undefined);
    const got = await drain(r);
    expect(got).toHaveLength(50);
    expect(r.stats.failures.rate_limit).toBe(1);
    expect(r.stats.delays).toEqual([1000]);
    expect(srv.requests[1].at - srv.requests[0].at).toBeGreaterThanOrEqual(990);
  });

  it('caps a server-requested wait at maxRetryAfterMs', async () => {
    const srv = await startRandomUserServer();
    srv.fail({ status: 429, retryAfter: '3600' });
    const r = new HttpPollReader(options(srv.url, { maxRecords: 50, maxRetryAfterMs: 300 }), 0, undefined);
    expect(await drain(r)).toHaveLength(50);
    expect(r.stats.delays).toEqual([300]);
  });

  it('times out a slow response and retries it', async () => {
    const srv = await startRandomUserServer();
    srv.fail({ delayMs: 4000 });
    const r = new HttpPollReader(options(srv.url, { maxRecords: 50, timeoutMs: 1500 }), 0, undefined);
    const got = await drain(r);
    expect(uuids(got)).toEqual(uuids(pool.slice(0, 50)));
    expect(r.stats.failures.timeout).toBe(1);
  });

  it('retries a 200 whose body is not JSON, and one without a results array', async () => {
    const srv = await startRandomUserServer();
    srv.fail({ body: '<html><body>502 Bad Gateway</body></html>' }, { body: '{"error":"Uh oh, something has gone wrong."}' });
    const r = new HttpPollReader(options(srv.url, { maxRecords: 50, records: (b) => {
      const res = (b as { results?: RandomUser[] }).results;
      if (!Array.isArray(res)) throw new TypeError('no results');
      return res;
    } }), 0, undefined);
    const got = await drain(r);
    expect(uuids(got)).toEqual(uuids(pool.slice(0, 50)));
    expect(r.stats.failures.bad_body).toBe(2);
    expect(r.stats.lastError).toMatch(/unexpected response shape: no results/);
  });

  it('backs off to the maximum on a client error (a wrong URL), and says so', async () => {
    const srv = await startRandomUserServer();
    const logs: string[] = [];
    const r = new HttpPollReader(options(srv.url.replace('/api/', '/nope/'), { log: (m) => logs.push(m) }), 0, undefined);
    expect(await r.next(10)).toEqual([]);
    expect(r.stats.failures.client).toBe(1);
    expect(r.stats.delays).toEqual([400]);
    expect(logs[0]).toMatch(/HTTP 404.*check the URL/);
    await r.close();
  });

  it('retries refused connections (server gone) until it is back', async () => {
    const srv = await startRandomUserServer();
    const url = srv.url;
    await srv.close();
    const r = new HttpPollReader(options(url, { maxRecords: 10 }), 0, undefined);
    expect(await r.next(10)).toEqual([]);
    expect(r.stats.failures.network).toBe(1);
    await r.close();
    expect(await r.next(10)).toBeNull();
  });

  it('resumes after a restart from the snapshot: same seed, next page, nothing doubled or skipped', async () => {
    const srv = await startRandomUserServer();
    const o = options(srv.url, { maxRecords: 180 });
    const a = new HttpPollReader(o, 0, undefined);
    const first = await drain(a, 1024, 100);
    const snap = JSON.parse(JSON.stringify(a.snapshot())) as unknown; // as stored in the checkpoint
    await a.close();
    const b = new HttpPollReader(o, 0, snap);
    const rest = await drain(b);
    expect(uuids([...first, ...rest])).toEqual(uuids(pool.slice(0, 180)));
    const seeds = new Set(srv.requests.map((q) => q.query.seed));
    expect(seeds.size).toBe(1);
    expect(srv.requests.map((q) => q.query.page)).toEqual(['1', '2', '3', '4']);
  });

  it('resumes inside a page when the runtime took only part of it', async () => {
    const srv = await startRandomUserServer();
    const o = options(srv.url, { maxRecords: 100 });
    const a = new HttpPollReader(o, 0, undefined);
    const part = await a.next(30);
    expect(a.snapshot()).toMatchObject({ poll: 0, skip: 30, emitted: 30 });
    await a.close();
    const b = new HttpPollReader(o, 0, a.snapshot());
    const rest = await drain(b, 30);
    expect(uuids([...part!, ...rest])).toEqual(uuids(pool.slice(0, 100)));
    // Page 1 was fetched again after the restart, its first 30 users dropped.
    expect(srv.requests.map((q) => q.query.page)).toEqual(['1', '1', '2']);
  });

  it('counts the duration limit in running time, across restarts', async () => {
    const srv = await startRandomUserServer();
    const o = options(srv.url, { maxDurationMs: 400, intervalMs: 100 });
    const a = new HttpPollReader(o, 0, undefined);
    const t0 = Date.now();
    await drain(a, 1024, 100);
    const snap = a.snapshot();
    await a.close();
    expect(snap.activeMs).toBeGreaterThan(0);
    // Down time does not count: the restarted reader still polls. Measured on the reader's clock
    // (Date.now): a timer of 500 ms can end 499 ms later on it.
    const down0 = Date.now();
    await new Promise((r) => setTimeout(r, 500));
    const down = Date.now() - down0;
    const before = srv.requests.length;
    const b = new HttpPollReader(o, 0, snap);
    await drain(b);
    expect(srv.requests.length).toBeGreaterThan(before);
    expect(b.snapshot().activeMs).toBeGreaterThanOrEqual(400);
    // It stops at the limit give or take one request (a slow machine makes that request slow).
    expect(b.snapshot().activeMs).toBeLessThan(400 + 1000);
    // The wall time held both readers' running time and the down time between them.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(b.snapshot().activeMs + down);
  });

  it('turns a record over maxRecordBytes into an OversizeRecord that the spec rejects, keeping the others', async () => {
    const srv = await startRandomUserServer();
    srv.fail({ mutate: (us) => ((us[3].bio = 'x'.repeat(5 * 1024 * 1024)), us) });
    const o = options(srv.url, { maxRecords: 50, maxRecordBytes: 1_000_000 });
    const r = new HttpPollReader(o, 0, undefined);
    const got = await drain(r);
    expect(got).toHaveLength(50);
    const big = got[3] as OversizeRecord;
    expect(big).toBeInstanceOf(OversizeRecord);
    expect(big.bytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(big.preview.length).toBe(1024);
    expect(uuids(got.filter((g, i) => i !== 3))).toEqual(uuids(pool.slice(0, 50).filter((_, i) => i !== 3)));
    const spec = httpPollSource(o);
    expect(spec.validate!(big)).toMatch(/record of \d+ bytes is over maxRecordBytes \(1000000\)/);
    expect(spec.validate!(pool[0])).toBeUndefined();
  });
});

/**
 * The SSE source against a real local HTTP server replaying the Wikimedia
 * recordings (test/helpers/sse-replay-server.ts): split packets, comments,
 * CRLF, dropped connections, Last-Event-ID resumption after a restart,
 * heartbeats and idle timeouts, HTTP errors, undecodable data, 204.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SseReader, sseSource, isUndecodable, type SseSourceEvent, type SseUndecodable } from '../../../engine/sources/sse-source.ts';
import { SseReplayServer, type ConnectionPlan, type ReplayEvent } from '../../helpers/sse-replay-server.ts';
import { recordedEventTexts, replayEvents } from '../../helpers/wikimedia-fixtures.ts';

const texts = recordedEventTexts();
const events = replayEvents(texts);
const servers: SseReplayServer[] = [];
const readers: Array<SseReader<unknown>> = [];

afterEach(async () => {
  for (const r of readers.splice(0)) await r.close();
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(o: { events?: ReplayEvent[]; plans?: ConnectionPlan[]; defaultPlan?: ConnectionPlan; noContentAtEnd?: boolean; heartbeatMs?: number }): Promise<SseReplayServer> {
  const s = new SseReplayServer({ events: o.events ?? events, ...o });
  await s.start();
  servers.push(s);
  return s;
}

function reader(url: string, resume?: unknown, extra: { idleTimeoutMs?: number; log?: SseSourceEvent[] } = {}): SseReader<unknown> {
  const r = new SseReader<unknown>(
    { url, backoff: { initialMs: 10, maxMs: 50, jitter: 0 }, idleTimeoutMs: extra.idleTimeoutMs ?? 5000, waitMs: 50, onEvent: (e) => extra.log?.push(e) },
    resume,
  );
  readers.push(r);
  return r;
}

/** Pulls until `n` records arrived (or the source ended), in batches of `max`. */
async function pull(r: SseReader<unknown>, n: number, max = 17, timeoutMs = 20_000): Promise<unknown[]> {
  const out: unknown[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < n) {
    if (Date.now() > deadline) throw new Error(`got ${out.length} of ${n} records in ${timeoutMs} ms`);
    const batch = await r.next(Math.min(max, n - out.length));
    if (batch === null) break;
    out.push(...batch);
  }
  return out;
}

const parsed = texts.map((t) => JSON.parse(t) as unknown);

describe('SSE source', () => {
  it('reads every recorded event, in order, with lines and UTF-8 characters split across TCP packets, comments and CRLF', async () => {
    const s = await serve({ defaultPlan: { splitBytes: 61, commentBetween: true, crlf: true } });
    const got = await pull(reader(s.url), events.length);
    expect(got).toEqual(parsed);
    expect(s.connections).toHaveLength(1);
    // 3-byte packets: every multi-byte character of the capture (U+200E marks in parsedcomment) is cut somewhere.
    expect(texts.slice(0, 3).some((t) => [...t].some((ch) => ch.charCodeAt(0) > 0x7f))).toBe(true);
    const tiny = await serve({ events: events.slice(0, 4), defaultPlan: { splitBytes: 3 } });
    expect(await pull(reader(tiny.url), 4)).toEqual(parsed.slice(0, 4));
  });

  it('reconnects after mid-event drops with Last-Event-ID, with no gap and no repeat', async () => {
    const log: SseSourceEvent[] = [];
    const s = await serve({ plans: [{ dropAfterEvents: 10 }, { status: 503 }, { dropAfterEvents: 25, splitBytes: 11 }, { dropAfterEvents: 0 }] });
    const r = reader(s.url, undefined, { log });
    const got = await pull(r, events.length);
    expect(got).toEqual(parsed);
    // Every reconnect named the last complete event the reader had parsed (the
    // half-written one was discarded), and the server resumed right after it.
    const index = new Map(events.map((e, i) => [e.id, i]));
    expect(s.connections.length).toBe(5);
    expect(s.connections[0].lastEventId).toBeUndefined();
    for (const c of s.connections.slice(1)) {
      if (c.status === 200) expect(c.from).toBe(c.lastEventId === undefined ? 0 : index.get(c.lastEventId)! + 1);
    }
    expect(s.connections.filter((c) => c.dropped)).toHaveLength(3);
    expect(log.filter((e) => e.type === 'backoff')).toHaveLength(4);
  });

  it('resumes after a restart from the checkpointed id (snapshot), sending it as Last-Event-ID', async () => {
    const s = await serve({});
    const first = reader(s.url);
    const a = await pull(first, 40, 40);
    const position = first.snapshot();
    expect(position).toBe(events[39].id);
    await first.close();
    // A new reader, as after a crash: JSON round trip, as the checkpoint stores it.
    const second = reader(s.url, JSON.parse(JSON.stringify(position)));
    const b = await pull(second, events.length - 40);
    expect([...a, ...b]).toEqual(parsed);
    expect(s.connections.at(-1)!.lastEventId).toBe(events[39].id);
  });

  it('keeps a stream that sends heartbeats, and drops and reopens one that goes silent', async () => {
    const log: SseSourceEvent[] = [];
    const quiet = await serve({ events: events.slice(0, 3), heartbeatMs: 100 });
    const r = reader(quiet.url, undefined, { idleTimeoutMs: 400, log });
    expect(await pull(r, 3)).toEqual(parsed.slice(0, 3));
    await new Promise((res) => setTimeout(res, 1200));
    expect(r.stats.comments).toBeGreaterThan(5);
    expect(quiet.connections).toHaveLength(1);

    const slow = await serve({ events: events.slice(0, 4), plans: [{ eventDelayMs: 1500 }], heartbeatMs: 60_000 });
    const r2 = reader(slow.url, undefined, { idleTimeoutMs: 400, log });
    expect(await pull(r2, 4)).toEqual(parsed.slice(0, 4));
    expect(log.some((e) => e.type === 'ended' && /no data for 400 ms/.test(e.error ?? ''))).toBe(true);
    expect(slow.connections[1].lastEventId).toBe(events[0].id);
  });

  it('fails with a clear error on a 4xx that retrying cannot fix', async () => {
    const s = await serve({});
    const r = reader(s.url, '[{"topic":"nowhere","partition":0,"offset":1}]');
    await expect(pull(r, 1)).rejects.toThrow(/HTTP 400/);
    expect(r.state).toBe('FAILED');
  });

  it('turns data that is not JSON into a dead-letter reason, and stops on 204', async () => {
    const bad: ReplayEvent[] = [events[0], { id: 'x-1', data: '{"meta": {' }, events[1]];
    const s = await serve({ events: bad, plans: [{ dropAfterEvents: 3 }], noContentAtEnd: true });
    const spec = sseSource({ url: s.url, backoff: { initialMs: 10, jitter: 0 }, waitMs: 50 });
    const r = spec.open(0, undefined) as SseReader<unknown>;
    readers.push(r);
    const got = await pull(r, 10);
    expect(got).toHaveLength(3);
    expect(isUndecodable(got[1])).toBe(true);
    expect(spec.validate!(got[1])).toMatch(/^undecodable event data: /);
    expect((got[1] as SseUndecodable).data).toBe('{"meta": {');
    expect(spec.validate!(got[0])).toBeUndefined();
    expect(await r.next(10)).toBeNull();
    expect(r.state).toBe('DONE');
    expect(s.connections.at(-1)!.status).toBe(204);
  });
});

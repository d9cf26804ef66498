/**
 * `sluice dev replay`: the recordings served in the shape of the live feeds.
 * Wikipedia: a real SSE stream whose ids resume a reconnect after
 * Last-Event-ID; randomuser: pages of the recorded pool, as the API pages a
 * seeded result set (wrapping around at its end).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { fixtures, recordedEvents, startReplay, type Replay } from '../../../engine/dev/replay.ts';

const FX = fixtures()!;
const SSE = join(FX, 'wikimedia', 'wiki_visualizer_example.events.sse.txt');
const NDJSON = join(FX, 'wikimedia', 'polars_book_wikimedia.ndjson');
const USERS = ['randomuser_api_v1.3_results200_US_macksm3.json', 'randomuser_api_v1.4_results1_BR_codeacademyuz.json'].map((f) => join(FX, 'randomuser', f));

/** Reads `n` events of an SSE response: [id, data] pairs. */
async function readEvents(res: Response, n: number): Promise<Array<[string, string]>> {
  const reader = res.body!.getReader();
  const out: Array<[string, string]> = [];
  let text = '';
  while (out.length < n) {
    const { value, done } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString('utf8');
    let end: number;
    while ((end = text.indexOf('\n\n')) >= 0 && out.length < n) {
      const block = text.slice(0, end);
      text = text.slice(end + 2);
      const id = /^id: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (id !== undefined && data !== undefined) out.push([id, data]);
    }
  }
  await reader.cancel();
  return out;
}

describe('sluice dev replay', () => {
  let r: Replay | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('reads both recording formats: SSE blocks and NDJSON lines', () => {
    const sse = recordedEvents(readFileSync(SSE, 'utf8'));
    expect(sse.length).toBe(readFileSync(SSE, 'utf8').split('\n').filter((l) => l.startsWith('data:')).length);
    const nd = recordedEvents(readFileSync(NDJSON, 'utf8'));
    expect(nd.length).toBe(readFileSync(NDJSON, 'utf8').split('\n').filter((l) => l.trim()).length);
    for (const e of [...sse, ...nd]) expect(typeof (JSON.parse(e) as { meta: { domain: string } }).meta.domain).toBe('string');
  });

  it('streams wikipedia events as SSE, and a reconnect resumes after Last-Event-ID', async () => {
    r = await startReplay('wikipedia', [NDJSON], { port: 0, rate: 1000 });
    const events = recordedEvents(readFileSync(NDJSON, 'utf8'));
    const first = await fetch(r.url);
    expect(first.headers.get('content-type')).toBe('text/event-stream');
    const got = await readEvents(first, 5);
    expect(got).toEqual(events.slice(0, 5).map((d, i) => [`replay-${i}`, d]));
    const again = await readEvents(await fetch(r.url, { headers: { 'last-event-id': 'replay-2' } }), 2);
    expect(again).toEqual([['replay-3', events[3]], ['replay-4', events[4]]]);
  });

  it('pages the recorded users like the API with a seed, wrapping around', async () => {
    r = await startReplay('randomuser', USERS, { port: 0 });
    const pool = USERS.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { results: Array<{ login: { uuid: string } }> }).results);
    const page = async (n: number, p: number): Promise<string[]> => {
      const body = (await (await fetch(`${r!.url}?results=${n}&page=${p}&seed=x`)).json()) as { results: Array<{ login: { uuid: string } }>; info: { page: number } };
      expect(body.info.page).toBe(p);
      return body.results.map((u) => u.login.uuid);
    };
    expect(await page(50, 1)).toEqual(pool.slice(0, 50).map((u) => u.login.uuid));
    expect(await page(50, 2)).toEqual(pool.slice(50, 100).map((u) => u.login.uuid));
    // 201 users: page 5 of 50 starts with the last one, then wraps to the first.
    const five = await page(50, 5);
    expect(five[0]).toBe(pool[200].login.uuid);
    expect(five[1]).toBe(pool[0].login.uuid);
  });
});

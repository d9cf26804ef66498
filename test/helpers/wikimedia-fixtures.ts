/**
 * The Wikimedia recordings in test/fixtures/wikimedia (read, never
 * modified; provenance in test/fixtures/README.md) and what the tests derive from them in code:
 *
 *   recordedEvents()  the 3 events of the raw SSE capture (2022, three wikis)
 *                     followed by the 100 English Wikipedia edits (2023), as
 *                     the JSON text each recording holds, byte for byte;
 *   variants()        `new`, `log` (log_params as array, object and string)
 *                     and `categorize` events built from recorded edits, the
 *                     shapes real traffic mixes in;
 *   invalidEvents()   events that break the schema in one way each, and one
 *                     data line that is not JSON;
 *   replayEvents()    any of these with Wikimedia-style offset ids for the
 *                     SSE replay server.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseSseText } from '../../engine/sources/sse-parse.ts';
import type { RecentChange } from '../../jobs/wikipedia/recent-change.ts';
import type { ReplayEvent } from './sse-replay-server.ts';

export function wikimediaDataDir(): string {
  const dir = resolve(import.meta.dirname, '../fixtures/wikimedia');
  if (!existsSync(dir)) throw new Error(`Wikimedia recordings not found at ${dir} (they are part of the repository)`);
  return dir;
}

export const SCHEMA_FILE = 'schema_mediawiki_recentchange_1.0.1.json';

export function schemaPath(): string {
  return join(wikimediaDataDir(), SCHEMA_FILE);
}

/** The JSON text of every recorded event, capture first (it is older), then the ndjson file. */
export function recordedEventTexts(): string[] {
  const dir = wikimediaDataDir();
  const capture = parseSseText(readFileSync(join(dir, 'wiki_visualizer_example.events.sse.txt'), 'utf8')).map((e) => e.data);
  const ndjson = readFileSync(join(dir, 'polars_book_wikimedia.ndjson'), 'utf8').split('\n').filter((l) => l !== '');
  return [...capture, ...ndjson];
}

export function recordedEvents(): RecentChange[] {
  return recordedEventTexts().map((t) => JSON.parse(t) as RecentChange);
}

let offsetSeq = 9_000_000_000;

/** A copy of `e` with a new meta.id/offset/request_id, as a distinct event would have. */
function fresh(e: RecentChange, changes: Partial<RecentChange>): RecentChange {
  const n = offsetSeq++;
  return { ...structuredClone(e), ...changes, meta: { ...e.meta, id: `derived-${n}`, offset: n, request_id: `derived-${n}` } };
}

/** `new`, `log` and `categorize` events derived from recorded edits (same wiki, same minute). */
export function variants(base: RecentChange[] = recordedEvents().slice(3)): RecentChange[] {
  const [a, b, c, d, e] = base;
  const created = fresh(a, { type: 'new', id: (a.id ?? 0) + 1, title: `${a.title} (disambiguation)`, length: { new: 120 }, revision: { new: (a.revision?.new ?? 0) + 1 } });
  const withoutOld = created as RecentChange & { length: { new: number } };
  const log = (x: RecentChange, params: unknown, action: string): RecentChange => {
    const ev = fresh(x, { type: 'log', namespace: 2, log_id: 150_000_000 + (x.id ?? 0), log_type: action === 'move' ? 'move' : 'block', log_action: action, log_params: params, log_action_comment: `${action}d ${x.title}` });
    delete ev.length;
    delete ev.revision;
    delete ev.minor;
    return ev;
  };
  const categorize = fresh(e, { type: 'categorize', namespace: 14, title: 'Category:Living people', title_url: 'https://en.wikipedia.org/wiki/Category:Living_people', comment: `[[:${e.title}]] added to category` });
  delete categorize.length;
  return [
    withoutOld,
    log(b, ['first', 'second'], 'block'),
    log(c, { target: 'Somewhere else', noredir: '0' }, 'move'),
    log(d, 'a:1:{s:6:"legacy";s:3:"php";}', 'block'),
    categorize,
  ];
}

/** Each breaks the schema in one way; the reason the validator gives must name it. */
export function invalidEvents(base: RecentChange = recordedEvents()[3]): Array<{ event: unknown; breaks: string }> {
  const v = (f: (e: Record<string, unknown> & { meta: Record<string, unknown> }) => void, breaks: string) => {
    const e = structuredClone(base) as unknown as Record<string, unknown> & { meta: Record<string, unknown> };
    e.meta = { ...e.meta, id: `invalid-${offsetSeq}`, offset: offsetSeq++ };
    f(e);
    return { event: e, breaks };
  };
  return [
    v((e) => delete (e as Partial<typeof e>).meta, "must have required property 'meta'"),
    v((e) => (e.meta.dt = 'yesterday'), '/meta/dt must match format "date-time"'),
    v((e) => (e.namespace = '0'), '/namespace must be integer'),
    v((e) => (e.bot = 'true'), '/bot must be boolean'),
    v((e) => (e.length = { old: 1, new: 'many' }), '/length/new must be integer,null'),
    v((e) => (e.meta.domain = ''), '/meta/domain must NOT have fewer than 1 characters'),
    v((e) => delete e.$schema, "must have required property '$schema'"),
  ];
}

/** Ids in Wikimedia's offset form, unique per event (the capture's own ids repeat: they are timestamp-based). */
export function replayEvents(texts: readonly string[]): ReplayEvent[] {
  return texts.map((data, i) => ({ id: JSON.stringify([{ topic: 'eqiad.mediawiki.recentchange', partition: 0, offset: 5_000_000 + i }]), data }));
}

/**
 * The wikipedia job's windows, tested as a user tests their own job: through
 * `sluice/testing` (real partition actors, LMDB state and checkpoints; no
 * Kafka, Parquet or BigQuery). The recorded recentchange events (plus
 * derived new/log/categorize events and schema-breaking ones) go in as the
 * JSON text Kafka would carry, keyed by wiki, across a crash; then
 *   - the raw sink holds every valid event once;
 *   - the three window aggregates equal a plain computation over the events;
 *   - the schema-breaking events are dead letters with the validator's reason;
 * and, with the watermark moved by hand: a minute window emits when the
 * watermark passes its end, not before, and a record behind it goes to the
 * late topic, tagged with each aggregate it missed.
 */
import { describe, expect, it } from 'vitest';
import { TestDriver, type CrashPoint } from '../../api/testing.ts';
import job from '../../jobs/wikipedia.ts';
import { isBot, isEditing } from '../../jobs/wikipedia/aggregates.ts';
import { eventTimeMs, type RecentChange } from '../../jobs/wikipedia/recent-change.ts';
import { invalidEvents, recordedEvents, schemaPath, variants } from '../helpers/wikimedia-fixtures.ts';

const MINUTE = 60_000;
const DAY = 86_400_000;
const settings = { schemaPath: schemaPath(), idleAdvance: 'off', aggregatesTo: 'discard' };

const invalid = invalidEvents();

function open() {
  return new TestDriver(job, { settings, partitions: 2 });
}

/**
 * The events as Kafka would carry them, keyed by wiki: each derived variant
 * right after the edit it was made from (same wiki, same minute), the invalid
 * ones spread in between (as the end-to-end test orders them).
 */
function inputTexts(): Array<{ text: string; key?: string }> {
  const recorded = recordedEvents();
  const derived = variants();
  const bad = invalid.map((x) => JSON.stringify(x.event));
  const keyed = (e: RecentChange) => ({ text: JSON.stringify(e), key: e.meta.domain });
  const out: Array<{ text: string; key?: string }> = recorded.slice(0, 4).map(keyed);
  for (let i = 4; i < recorded.length; i++) {
    out.push(keyed(recorded[i]));
    if (i - 4 < derived.length) out.push(keyed(derived[i - 4]));
    if (i % 12 === 0 && bad.length) out.push({ text: bad.pop()! });
  }
  out.push(...bad.map((text) => ({ text })));
  return out;
}

/** Pipes the input as JSON text through the source's codec, checkpointing every 15 records; crashes at the 4th checkpoint. */
async function runAll(t: ReturnType<typeof open>, crashAt?: CrashPoint): Promise<void> {
  for (let i = 0; i < texts.length; i++) {
    t.pipeRaw('changes', texts[i].text, { key: texts[i].key });
    if (i % 15 === 14) await t.checkpoint({ crashAt: i === 59 ? crashAt : undefined });
  }
  await t.finish();
}

// Once: variants() and invalidEvents() give fresh ids on every call.
const texts = inputTexts();
const valid = texts.filter((x) => x.key !== undefined).map((x) => JSON.parse(x.text) as RecentChange);

const sortRows = (rows: Array<Record<string, unknown>>) => rows.map((r) => JSON.stringify(r)).sort();

function groupCount<K>(events: RecentChange[], key: (e: RecentChange) => K): Map<string, { key: K; events: RecentChange[] }> {
  const m = new Map<string, { key: K; events: RecentChange[] }>();
  for (const e of events) {
    const id = JSON.stringify(key(e));
    const g = m.get(id) ?? { key: key(e), events: [] };
    g.events.push(e);
    m.set(id, g);
  }
  return m;
}

describe('wikipedia job (sluice/testing)', () => {
  for (const crashAt of [undefined, 'after-commit', 'after-deliver'] as const) {
    it(`raw, the three window aggregates and the dead letters equal a plain computation${crashAt ? ` (crash ${crashAt})` : ''}`, async () => {
      const t = open();
      try {
        await runAll(t, crashAt);
        if (crashAt) expect(t.incarnation).toBe(2);

        // Raw: every valid event once.
        expect(t.output<RecentChange>('raw').map((e) => e.meta.id).sort()).toEqual(valid.map((e) => e.meta.id).sort());

        // 1. Per (wiki, title, title_url, bot) per minute: edits, events of any type, and distinct comments.
        const minute = (e: RecentChange) => Math.floor(eventTimeMs(e) / MINUTE) * MINUTE;
        const formatted = [...groupCount(valid, (e) => [e.meta.domain ?? null, e.title ?? null, e.title_url ?? null, isBot(e), minute(e)] as const).values()].map(({ key: [wiki, title, url, bot, start], events }) => ({
          wiki, title, title_url: url, is_bot: bot, formatted_timestamp: start, edit_count: events.filter((e) => e.type === 'edit').length, event_count: events.length,
          count_comments: new Set(events.map((e) => e.comment)).size, ts: Math.floor(start / DAY) * DAY,
        }));
        const gotFormatted = t.output<Record<string, unknown>>('formatted').map(({ wiki, title, title_url, is_bot, formatted_timestamp, edit_count, event_count, count_comments, ts }) => ({ wiki, title, title_url, is_bot, formatted_timestamp, edit_count, event_count, count_comments, ts }));
        expect(sortRows(gotFormatted)).toEqual(sortRows(formatted));
        expect(formatted.some((r) => r.count_comments > 1)).toBe(true);
        expect(formatted.some((r) => r.event_count > r.edit_count)).toBe(true);

        // 2. Per wiki per minute.
        const wiki = [...groupCount(valid, (e) => [e.meta.domain ?? '', minute(e)] as const).values()].map(({ key: [w, start], events }) => ({
          wiki: w, window_start: start, events: events.length,
          edits: events.filter((e) => e.type === 'edit').length, new_pages: events.filter((e) => e.type === 'new').length,
          log_events: events.filter((e) => e.type === 'log').length, categorize_events: events.filter((e) => e.type === 'categorize').length,
          bot_edits: events.filter((e) => e.type === 'edit' && e.bot === true).length, human_edits: events.filter((e) => e.type === 'edit' && e.bot === false).length,
          bytes_changed: events.reduce((n, e) => n + (e.length ? (e.length.new ?? 0) - (e.length.old ?? 0) : 0), 0),
        }));
        const gotWiki = t.output<Record<string, unknown>>('wikiMinute').map(({ wiki: w, window_start, events, edits, new_pages, log_events, categorize_events, bot_edits, human_edits, bytes_changed }) => ({ wiki: w, window_start, events, edits, new_pages, log_events, categorize_events, bot_edits, human_edits, bytes_changed }));
        expect(sortRows(gotWiki)).toEqual(sortRows(wiki));

        // 3. Sessions per (wiki, user): edits and new pages less than 30 minutes apart.
        const sessions: Array<Record<string, unknown>> = [];
        const edits = valid.filter(isEditing).map((e) => ({ wiki: e.meta.domain, user: e.user, t: eventTimeMs(e) }));
        edits.sort((a, b) => String(a.wiki).localeCompare(String(b.wiki)) || String(a.user).localeCompare(String(b.user)) || a.t - b.t);
        for (const e of edits) {
          const last = sessions.at(-1);
          if (last && last.wiki === e.wiki && last.user === e.user && e.t < (last.session_end as number) + 30 * MINUTE) {
            last.session_end = e.t;
            last.edit_count = (last.edit_count as number) + 1;
          } else sessions.push({ wiki: e.wiki, user: e.user, session_start: e.t, session_end: e.t, edit_count: 1 });
        }
        const gotSessions = t.output<Record<string, unknown>>('sessions').map(({ wiki: w, user, session_start, session_end, edit_count }) => ({ wiki: w, user, session_start, session_end, edit_count }));
        expect(sortRows(gotSessions)).toEqual(sortRows(sessions));

        // Dead letters: each schema-breaking event with the validator's reason; nothing late.
        const dead = t.deadLetters();
        expect(dead.map((d) => d.reason)).toEqual(invalid.map(() => 'validation_failed'));
        expect(valid).toHaveLength(recordedEvents().length + 5);
        for (const { breaks } of invalid) expect(dead.some((d) => d.error?.message.includes(breaks)), breaks).toBe(true);
        expect(t.output('late')).toEqual([]);
        for (const id of ['raw', 'formatted', 'wikiMinute', 'sessions']) expect(t.sink(id).conflicts).toEqual([]);
      } finally {
        await t.close();
      }
    });
  }

  it('a minute window emits once the watermark passes its end; a record behind the watermark goes to the late topic', async () => {
    const t = open();
    try {
      const base = recordedEvents()[5];
      const at = (sec: number, id: string): RecentChange => ({ ...base, timestamp: sec, meta: { ...base.meta, id } });
      const start = Math.floor((base.timestamp! * 1000) / MINUTE) * MINUTE;
      const s0 = start / 1000;
      t.pipe('changes', at(s0 + 10, 'a'), { key: base.meta.domain });
      t.pipe('changes', at(s0 + 50, 'b'), { key: base.meta.domain });
      const p = t.partitionOf(base.meta.domain!);
      // Bound 30 s: the watermark trails the newest event by it, inside the minute.
      expect(t.watermark(p)).toBe((s0 + 50) * 1000 - 30_000);
      await t.checkpoint();
      expect(t.output('wikiMinute')).toEqual([]);
      t.advanceWatermark(start + MINUTE, { partition: p });
      await t.checkpoint();
      expect(t.output<{ window_start: number; events: number }>('wikiMinute').map((r) => [r.window_start, r.events])).toEqual([[start, 2]]);
      // This minute has fired: a record of it is late for both minute aggregates (the session window still takes it).
      t.pipe('changes', at(s0 + 20, 'late'), { key: base.meta.domain });
      await t.checkpoint();
      const late = t.output<{ aggregate: string; event: RecentChange }>('late');
      expect(late.map((l) => [l.aggregate, l.event.meta.id]).sort()).toEqual([['formatted_changes', 'late'], ['wiki_minute_stats', 'late']]);
      expect(t.counters().get('wiki-minute:late_records')).toBe(1);
    } finally {
      await t.close();
    }
  });
});

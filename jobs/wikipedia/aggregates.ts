/**
 * The Wikipedia job's three continuous aggregates, their window operators and
 * their BigQuery tables.
 *
 * 1. wikipedia_formatted_changes: the seed's nightly aggregate made
 *    continuous. Per 1-minute tumbling event-time window and
 *    (wiki, title, title_url, is_bot): count_comments = distinct comments
 *    (as COUNT(DISTINCT comment): absent comments are not counted),
 *    edit_count = edits (events of type "edit"), event_count = events of
 *    any type (edit, new, log, categorize, ...). is_bot is "1" unless
 *    `bot` is false (so a missing `bot` counts as "1", as in the seed);
 *    formatted_timestamp is the window start and ts its day (00:00 UTC), both
 *    TIMESTAMP; the table is partitioned by day on ts. The wiki (meta.domain)
 *    is part of the key because the Kafka topic is keyed by it: a key must
 *    live in one partition, and a title without a title_url could otherwise
 *    appear on two wikis.
 * 2. wikipedia_wiki_minute_stats: per wiki per minute, events by type, bot
 *    and human edits (type edit, bot true / false), and bytes changed:
 *    sum of length.new - length.old over events that have `length` (a
 *    missing side counts as 0, so a new page adds its whole length).
 * 3. wikipedia_user_sessions: per (wiki, user) editing sessions (events of
 *    type edit or new), session windows with a 30-minute gap: edit count,
 *    first and last edit, length in seconds (last - first).
 *
 * Every row has a row_id built from the window start and the key, the
 * BigQuery sink's upsert key (and insertId in insert-all mode).
 */
import { aggregate, count, countDistinct, sum, timeRange, type WindowResult } from '../../api/index.ts';
import type { BqColumn } from '../../api/sinks/bigquery.ts';
import type { RecentChange } from './recent-change.ts';

export const isBot = (e: RecentChange): '0' | '1' => (e.bot === false ? '0' : '1');

const DAY = 86_400_000;

// ---- 1. formatted changes ----------------------------------------------------------

/** [wiki, title, title_url, is_bot] as JSON: the window key. */
export function titleKey(e: RecentChange): string {
  return JSON.stringify([e.meta.domain ?? null, e.title ?? null, e.title_url ?? null, isBot(e)]);
}

const isEdit = (e: RecentChange): number => (e.type === 'edit' ? 1 : 0);

export const titleAggregate = () =>
  aggregate({ count_comments: countDistinct<RecentChange>((e) => e.comment), edit_count: sum<RecentChange>(isEdit), event_count: count<RecentChange>() });

export type TitleResult = ReturnType<ReturnType<typeof titleAggregate>['result']>;

export interface FormattedRow {
  row_id: string;
  wiki: string | null;
  title: string | null;
  title_url: string | null;
  formatted_timestamp: number;
  is_bot: string;
  count_comments: number;
  edit_count: number;
  event_count: number;
  ts: number;
  window_start: number;
  window_end: number;
}

export function formattedRow(w: WindowResult<TitleResult>): FormattedRow {
  const [wiki, title, titleUrl, bot] = JSON.parse(String(w.key)) as [string | null, string | null, string | null, string];
  return {
    row_id: `${w.start}|${String(w.key)}`,
    wiki,
    title,
    title_url: titleUrl,
    formatted_timestamp: w.start,
    is_bot: bot,
    count_comments: w.result.count_comments,
    edit_count: w.result.edit_count,
    event_count: w.result.event_count,
    ts: Math.floor(w.start / DAY) * DAY,
    window_start: w.start,
    window_end: w.end,
  };
}

export const FORMATTED_COLUMNS: readonly BqColumn[] = [
  { name: 'row_id', type: 'STRING', nullable: false, description: 'window start (ms) | key: idempotency key' },
  { name: 'wiki', type: 'STRING', description: 'meta.domain' },
  { name: 'title', type: 'STRING' },
  { name: 'title_url', type: 'STRING' },
  { name: 'formatted_timestamp', type: 'TIMESTAMP', description: 'window start' },
  { name: 'is_bot', type: 'STRING', description: '"1" unless bot is false' },
  { name: 'count_comments', type: 'INT64', description: 'distinct comments' },
  { name: 'edit_count', type: 'INT64', description: 'edits: events of type edit' },
  { name: 'event_count', type: 'INT64', description: 'recentchange events of any type' },
  { name: 'ts', type: 'TIMESTAMP', description: 'day of the window, 00:00 UTC (partitioning column)' },
  { name: 'window_start', type: 'TIMESTAMP' },
  { name: 'window_end', type: 'TIMESTAMP' },
];

// ---- 2. per wiki per minute ----------------------------------------------------------

const ofType = (t: string) => (e: RecentChange) => (e.type === t ? 1 : 0);
const bytesChanged = (e: RecentChange): number | undefined => (e.length ? (e.length.new ?? 0) - (e.length.old ?? 0) : undefined);

export const wikiAggregate = () =>
  aggregate({
    events: count<RecentChange>(),
    edits: sum(ofType('edit')),
    new_pages: sum(ofType('new')),
    log_events: sum(ofType('log')),
    categorize_events: sum(ofType('categorize')),
    bot_edits: sum<RecentChange>((e) => (e.type === 'edit' && e.bot === true ? 1 : 0)),
    human_edits: sum<RecentChange>((e) => (e.type === 'edit' && e.bot === false ? 1 : 0)),
    bytes_changed: sum(bytesChanged),
  });

export type WikiResult = ReturnType<ReturnType<typeof wikiAggregate>['result']>;

export function wikiRow(w: WindowResult<WikiResult>): Record<string, unknown> {
  return { row_id: `${w.start}|${String(w.key)}`, wiki: String(w.key), window_start: w.start, window_end: w.end, ts: Math.floor(w.start / DAY) * DAY, ...w.result };
}

export const WIKI_COLUMNS: readonly BqColumn[] = [
  { name: 'row_id', type: 'STRING', nullable: false },
  { name: 'wiki', type: 'STRING' },
  { name: 'window_start', type: 'TIMESTAMP' },
  { name: 'window_end', type: 'TIMESTAMP' },
  { name: 'ts', type: 'TIMESTAMP' },
  ...['events', 'edits', 'new_pages', 'log_events', 'categorize_events', 'bot_edits', 'human_edits', 'bytes_changed'].map((name): BqColumn => ({ name, type: 'INT64' })),
];

// ---- 3. user sessions ----------------------------------------------------------------

export const userKey = (e: RecentChange): string => JSON.stringify([e.meta.domain ?? null, e.user ?? null]);
export const isEditing = (e: RecentChange): boolean => e.type === 'edit' || e.type === 'new';

export const sessionAggregate = () => aggregate({ edits: count<RecentChange>(), span: timeRange<RecentChange>() });

export type SessionResult = ReturnType<ReturnType<typeof sessionAggregate>['result']>;

export function sessionRow(w: WindowResult<SessionResult>): Record<string, unknown> {
  const [wiki, user] = JSON.parse(String(w.key)) as [string | null, string | null];
  const span = w.result.span!;
  return {
    row_id: `${w.start}|${String(w.key)}`,
    wiki,
    user,
    session_start: span.first,
    session_end: span.last,
    length_seconds: Math.round((span.last - span.first) / 1000),
    edit_count: w.result.edits,
    window_end: w.end,
    ts: Math.floor(w.start / DAY) * DAY,
  };
}

export const SESSION_COLUMNS: readonly BqColumn[] = [
  { name: 'row_id', type: 'STRING', nullable: false },
  { name: 'wiki', type: 'STRING' },
  { name: 'user', type: 'STRING' },
  { name: 'session_start', type: 'TIMESTAMP', description: 'first edit' },
  { name: 'session_end', type: 'TIMESTAMP', description: 'last edit' },
  { name: 'length_seconds', type: 'INT64', description: 'last - first edit' },
  { name: 'edit_count', type: 'INT64' },
  { name: 'window_end', type: 'TIMESTAMP', description: 'last edit + gap: when the session closed' },
  { name: 'ts', type: 'TIMESTAMP', description: 'day of the session start' },
];

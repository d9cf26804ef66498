/**
 * The Wikimedia `mediawiki/recentchange` event (schema 1.0.x, see
 * test/fixtures/wikimedia/schema_mediawiki_recentchange_1.0.1.json) and the
 * flat row the raw Hive table stores.
 *
 * Only `$schema` and `meta` (with `dt` and `stream`) are required: `log`
 * events carry `log_*` fields and no `length`/`revision`, `categorize` events
 * no `length`, `log_params` may be an array, an object or a string. So every
 * field but those is optional here, as in the schema.
 */

export interface RecentChangeMeta {
  uri?: string;
  request_id?: string;
  id?: string;
  dt: string;
  domain?: string;
  stream: string;
  topic?: string;
  partition?: number;
  offset?: number;
}

export interface RecentChange {
  $schema: string;
  meta: RecentChangeMeta;
  id?: number | null;
  type?: string;
  namespace?: number;
  title?: string;
  title_url?: string;
  comment?: string;
  parsedcomment?: string;
  timestamp?: number;
  user?: string;
  bot?: boolean;
  minor?: boolean;
  patrolled?: boolean;
  notify_url?: string;
  length?: { old?: number | null; new?: number | null };
  revision?: { old?: number | null; new?: number | null };
  server_url?: string;
  server_name?: string;
  server_script_path?: string;
  wiki?: string;
  log_id?: number | null;
  log_type?: string | null;
  log_action?: string;
  log_action_comment?: string | null;
  log_params?: unknown;
}

/**
 * A raw row, as written to `wikipedia_recent_changes`: the event's scalar
 * fields under their own names, `meta.*` flattened to `meta_<field>`
 * (prefixed because `meta.id` would collide with the top-level `id`),
 * `length`/`revision` flattened the same way, `log_params` as JSON text
 * (its shape varies), and `$schema` as `schema`. Absent fields are null.
 * The partition column `ts` (yyyyMMdd of `timestamp`, UTC) lives in the
 * directory name, as Hive and Spark lay it out, not in the file.
 */
export interface RawRow {
  schema: string;
  id: number | null;
  type: string | null;
  namespace: number | null;
  title: string | null;
  title_url: string | null;
  comment: string | null;
  parsedcomment: string | null;
  timestamp: number | null;
  user: string | null;
  bot: boolean | null;
  minor: boolean | null;
  patrolled: boolean | null;
  notify_url: string | null;
  length_old: number | null;
  length_new: number | null;
  revision_old: number | null;
  revision_new: number | null;
  server_url: string | null;
  server_name: string | null;
  server_script_path: string | null;
  wiki: string | null;
  log_id: number | null;
  log_type: string | null;
  log_action: string | null;
  log_action_comment: string | null;
  log_params: string | null;
  meta_uri: string | null;
  meta_request_id: string | null;
  meta_id: string | null;
  meta_dt: string;
  meta_domain: string | null;
  meta_stream: string;
  meta_topic: string | null;
  meta_partition: number | null;
  meta_offset: number | null;
}

const n = <T>(v: T | undefined): T | null => (v === undefined ? null : v);

export function toRawRow(e: RecentChange): RawRow {
  const m = e.meta;
  return {
    schema: e.$schema,
    id: n(e.id),
    type: n(e.type),
    namespace: n(e.namespace),
    title: n(e.title),
    title_url: n(e.title_url),
    comment: n(e.comment),
    parsedcomment: n(e.parsedcomment),
    timestamp: n(e.timestamp),
    user: n(e.user),
    bot: n(e.bot),
    minor: n(e.minor),
    patrolled: n(e.patrolled),
    notify_url: n(e.notify_url),
    length_old: n(e.length?.old),
    length_new: n(e.length?.new),
    revision_old: n(e.revision?.old),
    revision_new: n(e.revision?.new),
    server_url: n(e.server_url),
    server_name: n(e.server_name),
    server_script_path: n(e.server_script_path),
    wiki: n(e.wiki),
    log_id: n(e.log_id),
    log_type: n(e.log_type),
    log_action: n(e.log_action),
    log_action_comment: n(e.log_action_comment),
    log_params: e.log_params === undefined ? null : JSON.stringify(e.log_params),
    meta_uri: n(m.uri),
    meta_request_id: n(m.request_id),
    meta_id: n(m.id),
    meta_dt: m.dt,
    meta_domain: n(m.domain),
    meta_stream: m.stream,
    meta_topic: n(m.topic),
    meta_partition: n(m.partition),
    meta_offset: n(m.offset),
  };
}

/** Event time in ms: `timestamp` (seconds) when present, else `meta.dt`. */
export function eventTimeMs(e: RecentChange): number {
  return typeof e.timestamp === 'number' ? e.timestamp * 1000 : Date.parse(e.meta.dt);
}

/** The Hive partition value: yyyyMMdd (UTC) of the event time. */
export function dayPartition(ms: number): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  const mo = d.getUTCMonth() + 1;
  const da = d.getUTCDate();
  return `${y}${mo < 10 ? '0' : ''}${mo}${da < 10 ? '0' : ''}${da}`;
}

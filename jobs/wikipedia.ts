/**
 * The Wikipedia pipeline of seed 000, continuous: Kafka `wikipedia.recentchange`
 * (written by `wikipedia-ingest`) into
 *
 *   raw         Parquet files in Hive layout, one directory per day:
 *               <outputDir>/wikipedia_recent_changes/ts=YYYYMMDD/part-<p>-<epoch>.parquet
 *               (meta.* flattened to meta_*, see wikipedia/recent-change.ts),
 *               committed with the checkpoint (engine/sinks/parquet-sink.ts);
 *   BigQuery    three event-time aggregates (wikipedia/aggregates.ts):
 *               wikipedia_formatted_changes (1-minute tumbling windows, the
 *               seed's grouping with count_comments), wikipedia_wiki_minute_stats
 *               and wikipedia_user_sessions (30-minute session gap), upserted
 *               by row id;
 *   Kafka       records too late for their window: `wikipedia.late`;
 *               events failing the mediawiki/recentchange schema: the
 *               runtime's dead-letter topic `wikipedia.dlq`, with ajv's errors.
 *
 * Event time is the event's `timestamp` (seconds). The watermark allows
 * `outOfOrdernessMs` of disorder per partition; a partition idle for
 * `idleTimeoutMs` advances with the wall clock (`idleAdvance=wall-clock`, the
 * default, for the live feed), so the windows of a quiet wiki still close.
 * A replay or backfill runs with `idleAdvance=off` (a pause in it would
 * otherwise make the rest late) and ends with `sluice run wikipedia --until
 * end`, which closes every window (README: "Live or replay").
 *
 * The input is partitioned by wiki, so keys hold the wiki: the title windows'
 * (title_url names the wiki anyway, so the groups are the seed's), and the
 * sessions', which are per (wiki, user); one session across wikis would
 * need a repartition by user first.
 *
 *   sluice run wikipedia --brokers 127.0.0.1:9092 \
 *     --set bigqueryProject=my-project --set bigqueryDataset=wikipedia
 *   (--set bigqueryEndpoint=http://127.0.0.1:9050 for the emulator)
 */
import { fileURLToPath } from 'node:url';
import { defineJob, discardSink, kafkaSink, kafkaSource, sessionWindow, tumblingWindow } from '../api/index.ts';
import { loadJsonSchema, type CompiledSchema } from '../api/schema.ts';
import { bigQuerySink } from '../api/sinks/bigquery.ts';
import { parquetSink } from '../api/sinks/parquet.ts';
import { dayPartition, eventTimeMs, toRawRow, type RawRow, type RecentChange } from './wikipedia/recent-change.ts';
import { RAW_COLUMNS, RAW_TABLE } from './wikipedia/raw-table.ts';
import {
  FORMATTED_COLUMNS,
  formattedRow,
  isEditing,
  SESSION_COLUMNS,
  sessionAggregate,
  sessionRow,
  titleAggregate,
  titleKey,
  userKey,
  WIKI_COLUMNS,
  wikiAggregate,
  wikiRow,
} from './wikipedia/aggregates.ts';

/**
 * The official schema, shipped with the job: wikimedia/schemas-event-primary,
 * jsonschema/mediawiki/recentchange/1.0.1.json (commit 39804465), unchanged.
 * SLUICE_RECENTCHANGE_SCHEMA names another file, e.g. a newer version.
 */
export const DEFAULT_SCHEMA_PATH =
  process.env.SLUICE_RECENTCHANGE_SCHEMA ?? fileURLToPath(new URL('./wikipedia/mediawiki-recentchange-1.0.1.schema.json', import.meta.url));

// Compiled once per worker thread, on first use.
let compiled: { path: string; schema: CompiledSchema } | undefined;
function schemaAt(path: string): CompiledSchema {
  if (compiled?.path !== path) compiled = { path, schema: loadJsonSchema(path) };
  return compiled.schema;
}

export default defineJob({
  name: 'wikipedia',
  description: 'Kafka wikipedia.recentchange -> Hive-layout Parquet + windowed aggregates in BigQuery',
  settings: {
    topic: 'wikipedia.recentchange',
    schemaPath: DEFAULT_SCHEMA_PATH,
    outOfOrdernessMs: 30_000,
    idleTimeoutMs: 10_000,
    allowedLatenessMs: 0,
    windowMs: 60_000,
    sessionGapMs: 30 * 60_000,
    rawDir: '',
    bigqueryProject: 'sluice',
    bigqueryDataset: 'wikipedia',
    bigqueryEndpoint: '',
    bigqueryMode: 'upsert',
    /** 'discard' drops the aggregates instead of writing BigQuery (to measure the job without it). */
    aggregatesTo: 'bigquery',
    lateTopic: 'wikipedia.late',
    /**
     * What an idle partition (no record for idleTimeoutMs) does to event time:
     * 'wall-clock' advances it with the clock, so a quiet wiki's windows close
     * on a live stream; 'off' holds it, for replays and backfills, where the
     * clock says nothing about event time (see the README).
     */
    idleAdvance: 'wall-clock',
  },
  choices: { bigqueryMode: ['upsert', 'insert-all'], aggregatesTo: ['bigquery', 'discard'], idleAdvance: ['off', 'wall-clock'] },
  sources: (s) => {
    // Fail at start with the path in the message, not per record.
    schemaAt(s.schemaPath);
    return {
      changes: kafkaSource<RecentChange>({
        topic: s.topic,
        codec: 'json',
        startFrom: 'earliest',
        timestamp: eventTimeMs,
        watermark: { maxOutOfOrdernessMs: s.outOfOrdernessMs, idleTimeoutMs: s.idleTimeoutMs, idleAdvance: s.idleAdvance === 'off' ? 'hold' : 'wall-clock' },
        validate: (v) => schemaAt(s.schemaPath).validate(v),
      }),
    };
  },
  sinks: (s) => {
    const bq = (table: string, columns: typeof FORMATTED_COLUMNS, partitionField: string) =>
      s.aggregatesTo === 'discard'
        ? discardSink()
        : bigQuerySink({
          projectId: s.bigqueryProject,
          dataset: s.bigqueryDataset,
          table,
          columns,
          keyColumn: 'row_id',
          rowId: (r) => r.row_id as string,
          partitionField,
          mode: s.bigqueryMode as 'upsert' | 'insert-all',
          apiEndpoint: s.bigqueryEndpoint || undefined,
        });
    return {
      raw: parquetSink<RecentChange, RawRow>({
        dir: s.rawDir || undefined,
        table: RAW_TABLE,
        columns: RAW_COLUMNS,
        partitionColumn: 'ts',
        partitionValue: (e) => dayPartition(eventTimeMs(e)),
        toRow: toRawRow,
      }),
      formatted: bq('wikipedia_formatted_changes', FORMATTED_COLUMNS, 'ts'),
      wikiMinute: bq('wikipedia_wiki_minute_stats', WIKI_COLUMNS, 'ts'),
      sessions: bq('wikipedia_user_sessions', SESSION_COLUMNS, 'ts'),
      late: kafkaSink({ topic: s.lateTopic }),
    };
  },
  pipeline(b, s) {
    const changes = b.source<RecentChange>('changes');
    changes.to('raw');

    const lateness = s.allowedLatenessMs;
    const perTitle = changes
      .keyBy(titleKey, 'by-title')
      .process(tumblingWindow({ sizeMs: s.windowMs, allowedLatenessMs: lateness, aggregate: titleAggregate() }), 'title-minute');
    perTitle.map(formattedRow, 'formatted-row').to('formatted');

    const perWiki = changes
      .keyBy((e) => e.meta.domain ?? '', 'by-wiki')
      .process(tumblingWindow({ sizeMs: s.windowMs, allowedLatenessMs: lateness, aggregate: wikiAggregate() }), 'wiki-minute');
    perWiki.map(wikiRow, 'wiki-row').to('wikiMinute');

    const sessions = changes
      .filter(isEditing, 'editing')
      .keyBy(userKey, 'by-user')
      .process(sessionWindow({ gapMs: s.sessionGapMs, allowedLatenessMs: lateness, aggregate: sessionAggregate() }), 'user-sessions');
    sessions.map(sessionRow, 'session-row').to('sessions');

    // Late records, tagged with the aggregate they missed (a record late for one minute window is late for both).
    const tag = (aggregate: string) => (event: RecentChange) => ({ aggregate, event });
    perTitle
      .sideOutput<RecentChange>('late')
      .map(tag('formatted_changes'), 'late-formatted')
      .union(perWiki.sideOutput<RecentChange>('late').map(tag('wiki_minute_stats'), 'late-wiki'), sessions.sideOutput<RecentChange>('late').map(tag('user_sessions'), 'late-sessions'))
      .to('late');
  },
});

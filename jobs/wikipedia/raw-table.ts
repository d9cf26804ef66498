/**
 * The raw Hive table `wikipedia_recent_changes`: one Parquet column per
 * field of RawRow (recent-change.ts), partitioned by `ts` = yyyyMMdd.
 *
 *   <root>/wikipedia_recent_changes/ts=YYYYMMDD/part-<partition>-<epoch>.parquet
 */
import type { ParquetColumn } from '../../api/sinks/parquet.ts';

export const RAW_TABLE = 'wikipedia_recent_changes';

const s = (name: string, nullable = true): ParquetColumn => ({ name, type: 'STRING', nullable });
const i64 = (name: string): ParquetColumn => ({ name, type: 'INT64', nullable: true });
const b = (name: string): ParquetColumn => ({ name, type: 'BOOLEAN', nullable: true });

export const RAW_COLUMNS: readonly ParquetColumn[] = [
  s('schema', false),
  i64('id'),
  s('type'),
  i64('namespace'),
  s('title'),
  s('title_url'),
  s('comment'),
  s('parsedcomment'),
  i64('timestamp'),
  s('user'),
  b('bot'),
  b('minor'),
  b('patrolled'),
  s('notify_url'),
  i64('length_old'),
  i64('length_new'),
  i64('revision_old'),
  i64('revision_new'),
  s('server_url'),
  s('server_name'),
  s('server_script_path'),
  s('wiki'),
  i64('log_id'),
  s('log_type'),
  s('log_action'),
  s('log_action_comment'),
  s('log_params'),
  s('meta_uri'),
  s('meta_request_id'),
  s('meta_id'),
  s('meta_dt', false),
  s('meta_domain'),
  s('meta_stream', false),
  s('meta_topic'),
  { name: 'meta_partition', type: 'INT32', nullable: true },
  i64('meta_offset'),
];

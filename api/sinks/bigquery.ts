/** `sluice/sinks/bigquery`: the BigQuery sink. Importing it loads `@google-cloud/bigquery`. */
export { bigQuerySink, type BigQuerySinkOptions } from '../../engine/sinks/bigquery-sink.ts';
export type { BqColumn, BqType } from '../../engine/sinks/bigquery-sql.ts';

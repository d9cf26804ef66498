/** `sluice/sinks/parquet`: the Parquet file sink (Hive layout). Importing it loads `hyparquet-writer`. */
export { parquetSink, type ParquetSinkOptions } from '../../engine/sinks/parquet-sink.ts';
export type { ParquetColumn, ParquetType } from '../../engine/sinks/parquet-columns.ts';

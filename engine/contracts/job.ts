/**
 * A job is a TypeScript module whose default export (or `job` export) is the
 * value returned by `defineJob`. The module is loaded on the main thread (to
 * plan partitions) and in every worker thread (to build each actor's
 * pipeline), so it must not start anything at import time.
 */
import type { PipelineBuilder } from './pipeline.ts';
import type { SinkSpec } from './sinks.ts';
import type { SourceSpec } from './sources.ts';

export type SettingValue = string | number | boolean;
export type Settings = Record<string, SettingValue>;

/**
 * The values a setting may take, by setting name. A value outside its list
 * (`--set source=generatr`) is rejected before the job starts, with the list;
 * settings without an entry take any value of their default's type.
 */
export type SettingChoices<S extends Settings> = { readonly [K in keyof S]?: readonly S[K][] };

export interface JobDefinition<S extends Settings = Settings> {
  readonly name: string;
  readonly description?: string;
  /** Defaults for the job's own settings; `--set key=value` overrides them (coerced to the default's type). */
  readonly settings?: S;
  /** Allowed values of the settings that select among fixed alternatives (a source kind, a sink, a mode). */
  readonly choices?: SettingChoices<S>;
  readonly sources: Record<string, SourceSpec> | ((settings: S) => Record<string, SourceSpec>);
  readonly sinks: Record<string, SinkSpec> | ((settings: S) => Record<string, SinkSpec>);
  pipeline(b: PipelineBuilder, settings: S): void;
}

export function defineJob<S extends Settings = Settings>(def: JobDefinition<S>): JobDefinition<S> {
  return def;
}

/** Resolves sources and sinks for the given settings. */
export function resolveJob<S extends Settings>(def: JobDefinition<S>, settings: S): {
  sources: Record<string, SourceSpec>;
  sinks: Record<string, SinkSpec>;
} {
  const sources = typeof def.sources === 'function' ? def.sources(settings) : def.sources;
  const sinks = typeof def.sinks === 'function' ? def.sinks(settings) : def.sinks;
  return { sources, sinks };
}

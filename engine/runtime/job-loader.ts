/**
 * Loads a job module: a name from a catalog of built-in jobs (the CLI passes
 * jobs/registry.ts; engine/ never imports jobs/ itself) or a path to a user's
 * module. The module's default export (or its `job` export) must be a
 * JobDefinition.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { JobDefinition, SettingChoices, Settings } from '../contracts/job.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { DLQ_MAX_VALUE_BYTES } from './dead-letter.ts';

/** Named job modules: `sluice run <name>` and `sluice list` use one. */
export type JobCatalog = Readonly<Record<string, { readonly href: string; readonly description: string }>>;

/** Resolves a job name (in `catalog`) or a path to a module URL. */
export function resolveJobModule(nameOrPath: string, catalog: JobCatalog = {}, cwd = process.cwd()): string {
  const builtin = Object.hasOwn(catalog, nameOrPath) ? catalog[nameOrPath] : undefined;
  if (builtin) return builtin.href;
  const looksLikePath = /[\\/]|\.[cm]?[jt]s$/.test(nameOrPath);
  if (looksLikePath) {
    const p = isAbsolute(nameOrPath) ? nameOrPath : resolve(cwd, nameOrPath);
    if (!existsSync(p)) throw new SluiceError(ErrorCodes.JOB_NOT_FOUND, `job module not found: ${p}`);
    return pathToFileURL(p).href;
  }
  throw new SluiceError(
    ErrorCodes.JOB_NOT_FOUND,
    `unknown job "${nameOrPath}". Built-in jobs: ${Object.keys(catalog).join(', ') || '(none)'}; or give the path to a job module`,
  );
}

export async function loadJob(moduleUrl: string): Promise<JobDefinition<Settings>> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(moduleUrl)) as Record<string, unknown>;
  } catch (err) {
    throw loadError(moduleUrl, err);
  }
  const def = unwrapDefault(mod.default ?? mod.job) as JobDefinition<Settings> | undefined;
  if (!def || typeof def !== 'object' || typeof def.name !== 'string' || typeof def.pipeline !== 'function') {
    throw new SluiceError(ErrorCodes.CONFIG, `${moduleUrl} does not export a job (default export of defineJob({...}))`);
  }
  return def;
}

/**
 * Why a job module did not load, as the exit code tells it: a module (or a package it imports)
 * that does not exist is JOB_NOT_FOUND (exit 3); one that does not compile, or throws while it
 * loads, is the job's own error, CONFIG (exit 2). A compile error carries the compiler's message
 * (esbuild's, through tsx, for TypeScript; Node's, with the file and line, for JavaScript) in the
 * error's own message, so that it is printed once.
 */
function loadError(moduleUrl: string, err: unknown): SluiceError {
  const e = err as Error & { code?: string };
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') {
    return new SluiceError(ErrorCodes.JOB_NOT_FOUND, `cannot load job module ${moduleUrl}: ${e.message}`, { cause: err });
  }
  if (e?.name === 'TransformError') {
    return new SluiceError(ErrorCodes.CONFIG, `job module ${moduleUrl} does not compile:\n${e.message}`, { cause: err });
  }
  if (e instanceof SyntaxError) {
    // For CommonJS, Node puts the file, line and a caret above the message in the stack; for an ES
    // module it does not, and `node --check` on the file says where (when the error is in the job's
    // own file, not in one it imports).
    const where = syntaxCheck(moduleUrl) ?? (e.stack ?? e.message).split('\n    at ')[0];
    return new SluiceError(ErrorCodes.CONFIG, `job module ${moduleUrl} does not compile:\n${where}`, { cause: err });
  }
  return new SluiceError(ErrorCodes.CONFIG, `job module ${moduleUrl} failed while loading: ${e?.message ?? String(err)}`, { cause: err });
}

/** `node --check`'s report on a JavaScript file, without the stack frames; undefined if it finds nothing. */
function syntaxCheck(moduleUrl: string): string | undefined {
  if (!moduleUrl.startsWith('file:') || !/\.[cm]?js$/.test(moduleUrl)) return undefined;
  const r = spawnSync(process.execPath, ['--check', fileURLToPath(moduleUrl)], { encoding: 'utf8', timeout: 30_000 });
  if (r.status === 0 || !r.stderr) return undefined;
  return r.stderr.split('\n    at ')[0].trim();
}

/**
 * A CommonJS job module compiled from `export default` holds the job in `module.exports.default`;
 * `import()` of it gives that whole exports object as the default.
 */
function unwrapDefault(v: unknown): unknown {
  const o = v as { __esModule?: boolean; default?: unknown } | undefined;
  return o && typeof o === 'object' && o.__esModule === true && o.default !== undefined && typeof (o as { pipeline?: unknown }).pipeline !== 'function' ? o.default : v;
}

/**
 * Settings every job has, whatever it declares (a job may declare them with
 * its own defaults):
 *   dlqTopic          the dead-letter topic; '' is `<job>.dlq` (a local
 *                     directory in embedded mode), see worker-host.ts
 *   dlqMaxValueBytes  a dead letter's value is cut to this many bytes of
 *                     JSON, keeping a prefix, the length and a SHA-256
 *                     (engine/runtime/dead-letter.ts)
 */
export const ENGINE_SETTINGS: Settings = { dlqTopic: '', dlqMaxValueBytes: DLQ_MAX_VALUE_BYTES };

/**
 * Applies `key=value` overrides to a job's default settings (and the
 * engine's, ENGINE_SETTINGS), coercing to each default's type, then checks
 * every setting that declares its choices (the defaults too: a job whose
 * default is not a choice is a job bug, caught at start).
 */
export function applySettings(defaults: Settings | undefined, overrides: Record<string, string>, choices?: SettingChoices<Settings>): Settings {
  const out: Settings = { ...ENGINE_SETTINGS, ...(defaults ?? {}) };
  for (const [k, raw] of Object.entries(overrides)) {
    if (!(k in out)) {
      throw new SluiceError(ErrorCodes.CONFIG, `unknown setting "${k}"; this job's settings: ${Object.keys(out).join(', ') || '(none)'}`);
    }
    const d = out[k];
    if (typeof d === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new SluiceError(ErrorCodes.CONFIG, `setting "${k}" must be a number, got "${raw}"`);
      out[k] = n;
    } else if (typeof d === 'boolean') {
      if (!/^(true|false|1|0|yes|no)$/i.test(raw)) throw new SluiceError(ErrorCodes.CONFIG, `setting "${k}" must be true or false, got "${raw}"`);
      out[k] = /^(true|1|yes)$/i.test(raw);
    } else {
      out[k] = raw;
    }
  }
  for (const [k, allowed] of Object.entries(choices ?? {})) {
    if (allowed === undefined || !(k in out)) continue;
    if (!allowed.includes(out[k])) {
      throw new SluiceError(ErrorCodes.CONFIG, `setting "${k}" must be one of ${allowed.join(', ')}; got "${String(out[k])}"`);
    }
  }
  return out;
}

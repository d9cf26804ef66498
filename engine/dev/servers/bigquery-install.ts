/**
 * Builds goccy/bigquery-emulator from the Go module proxy into the cache:
 * `${cacheRoot}/bigquery-emulator-<version>/bigquery-emulator`.
 *
 * Pure Go (CGO_ENABLED=0: the SQL engine, googlesqlite, sits on
 * modernc.org/sqlite), so the Go toolchain is all it needs. The module
 * cache and build cache live in `${cacheRoot}/go/` rather than the user's
 * GOPATH, so a clean `rm -rf ~/.cache/sluice` really starts over.
 *
 * Integrity: the emulator module's hash is pinned below and checked after
 * `go mod download` (the checksum database is not consulted for it, because
 * `sum.golang.org` is not reachable from the build machines; GONOSUMDB names
 * only this module). Its dependencies are verified against the go.sum
 * shipped inside the module, as any `go build` in a module does.
 *
 * Cost (measured on the 2-core CI-class machine, other builds running):
 * cold (empty caches) about 10 minutes wall, 380 s CPU, 6.5 GB peak RSS
 * for one compile, 1.9 GB module cache + 1.6 GB build cache, 269 MB binary;
 * warm (binary present) nothing. See README.md in this folder.
 *
 * SLUICE_BIGQUERY_EMULATOR_BIN=/path/to/bigquery-emulator uses another
 * build instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { cacheRoot, ensureDir, markComplete, readCompletion } from './cache.ts';
import { externalBinary, goBuild, goEnv, requireGoVersion } from './go-build.ts';
import { runCommand, tailLines } from './process.ts';

export const BIGQUERY_EMULATOR_MODULE = 'github.com/goccy/bigquery-emulator';
export const BIGQUERY_EMULATOR_VERSION = 'v0.8.1';
/** `go mod download -json` Sum of the module zip (h1: hash, as in go.sum). */
const MODULE_SUM = 'h1:q3oRL2ylqGY3UYbccAztEUycj+TU5SVBxsElFsvJP9E=';
/** The module's go.mod asks for Go 1.25. */
const MIN_GO = [1, 25] as const;

const HINT =
  `Go ${MIN_GO.join('.')}+ is needed once, to build the BigQuery emulator (${BIGQUERY_EMULATOR_MODULE} ${BIGQUERY_EMULATOR_VERSION}) ` +
  'from the Go module proxy: install it from https://go.dev/dl or your package manager (e.g. `apt-get install golang-go` ' +
  'if that is recent enough) and put `go` on PATH, or set SLUICE_BIGQUERY_EMULATOR_BIN to a built emulator.';

export interface BigQueryEmulatorInstall {
  binary: string;
  version: string;
  built: boolean;
  ms: number;
  downloadMs?: number;
  buildMs?: number;
}

export function bigQueryEmulatorHome(cacheDir = cacheRoot()): string {
  return join(cacheDir, `bigquery-emulator-${BIGQUERY_EMULATOR_VERSION}`);
}

/** The cached binary, building it first when it is not there. */
export async function installBigQueryEmulator(options: { cacheDir?: string; log?: (message: string) => void } = {}): Promise<BigQueryEmulatorInstall> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const external = externalBinary('SLUICE_BIGQUERY_EMULATOR_BIN', HINT);
  if (external) return { binary: external, version: 'external', built: false, ms: 0 };
  const cacheDir = options.cacheDir ?? cacheRoot();
  const home = bigQueryEmulatorHome(cacheDir);
  const binary = join(home, 'bigquery-emulator');
  if ((await readCompletion(home)) && existsSync(binary)) return { binary, version: BIGQUERY_EMULATOR_VERSION, built: false, ms: Date.now() - started };

  const go = await requireGo();
  await ensureDir(home);
  const env = goEnv(cacheDir, { GONOSUMDB: BIGQUERY_EMULATOR_MODULE });
  log(`downloading ${BIGQUERY_EMULATOR_MODULE}@${BIGQUERY_EMULATOR_VERSION} from the Go module proxy`);
  const t0 = Date.now();
  const dl = await runCommand(go, ['mod', 'download', '-json', `${BIGQUERY_EMULATOR_MODULE}@${BIGQUERY_EMULATOR_VERSION}`], { env, cwd: home, timeoutMs: 10 * 60_000 });
  if (dl.code !== 0) throw new Error(`go mod download failed (exit ${dl.code}):\n${tailLines(dl.stdout + dl.stderr, 30)}`);
  const info = JSON.parse(dl.stdout) as { Dir: string; Sum: string };
  if (info.Sum !== MODULE_SUM) {
    throw new Error(`${BIGQUERY_EMULATOR_MODULE}@${BIGQUERY_EMULATOR_VERSION} has hash ${info.Sum}, expected ${MODULE_SUM}: refusing to build it`);
  }
  const downloadMs = Date.now() - t0;
  log(`building it with CGO_ENABLED=0 (a cold build takes minutes: several GB of Go packages)`);
  const t1 = Date.now();
  await goBuild(go, { pkg: './cmd/bigquery-emulator', binary, env, cwd: info.Dir, timeoutMs: 40 * 60_000, what: 'the BigQuery emulator' });
  const buildMs = Date.now() - t1;
  await markComplete(home, { module: BIGQUERY_EMULATOR_MODULE, version: BIGQUERY_EMULATOR_VERSION, sum: MODULE_SUM, downloadMs, buildMs });
  log(`built ${binary} in ${((Date.now() - started) / 1000).toFixed(1)}s (download ${(downloadMs / 1000).toFixed(1)}s, build ${(buildMs / 1000).toFixed(1)}s)`);
  return { binary, version: BIGQUERY_EMULATOR_VERSION, built: true, ms: Date.now() - started, downloadMs, buildMs };
}

/** `go`, recent enough for the emulator (the newest any server here needs). */
export function requireGo(): Promise<string> {
  return requireGoVersion(MIN_GO, HINT);
}

/**
 * Builds FerretDB v1.24 (a MongoDB wire-protocol server on SQLite) from the
 * Go module proxy into the cache:
 * `${cacheRoot}/ferretdb-<version>/sluice-ferretdb`.
 *
 * What is built is our own small `main` (engine/dev/servers/ferretdb/main.go), which
 * imports the embeddable package github.com/FerretDB/FerretDB/ferretdb: the
 * published `ferretdb` command panics when built with `go install` because
 * its version file is generated at release time. The go.mod and go.sum next
 * to it pin FerretDB and every dependency, and `go build` verifies each
 * downloaded module against go.sum (no checksum database needed). Pure Go
 * (CGO_ENABLED=0: SQLite is modernc.org/sqlite); the PostgreSQL backend is
 * left out with the `ferretdb_no_postgresql` build tag.
 *
 * The Go module and build caches live in `${cacheRoot}/go/` (shared with the
 * other Go-built servers), so a clean `rm -rf ~/.cache/sluice` really starts
 * over. The install is keyed by a hash of main.go, go.mod and go.sum: editing
 * them rebuilds.
 *
 * Cost (2-core CI-class machine, other work running): cold about 2.5 minutes
 * (module download ~10 s, compile ~2 min; ~300 MB of caches, 30 MB binary);
 * warm nothing.
 *
 * SLUICE_FERRETDB_BIN=/path/to/binary uses another build of this main instead.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot, ensureDir, markComplete, readCompletion } from './cache.ts';
import { externalBinary, goBuild, goEnv, requireGoVersion } from './go-build.ts';

export const FERRETDB_VERSION = '1.24.0';
const SOURCE_DIR = fileURLToPath(new URL('./ferretdb/', import.meta.url));
const SOURCES = ['main.go', 'go.mod', 'go.sum'];
/** go.mod says 1.22; FerretDB 1.24 needs it. */
const MIN_GO = [1, 22] as const;

const HINT =
  `Go ${MIN_GO.join('.')}+ is needed once, to build FerretDB ${FERRETDB_VERSION} (the MongoDB-wire test server) from the Go ` +
  'module proxy: install it from https://go.dev/dl or your package manager and put `go` on PATH, ' +
  'or set SLUICE_FERRETDB_BIN to a binary built from engine/dev/servers/ferretdb.';

export interface FerretDbInstall {
  binary: string;
  version: string;
  built: boolean;
  ms: number;
}

export function ferretDbHome(cacheDir = cacheRoot()): string {
  return join(cacheDir, `ferretdb-${FERRETDB_VERSION}`);
}

async function sourceHash(): Promise<string> {
  const h = createHash('sha256');
  for (const f of SOURCES) h.update(f).update('\0').update(await readFile(join(SOURCE_DIR, f)));
  return h.digest('hex').slice(0, 16);
}

/** The cached binary, building it first when it is missing or its sources changed. */
export async function installFerretDb(options: { cacheDir?: string; log?: (message: string) => void } = {}): Promise<FerretDbInstall> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const external = externalBinary('SLUICE_FERRETDB_BIN', HINT);
  if (external) return { binary: external, version: 'external', built: false, ms: 0 };
  const cacheDir = options.cacheDir ?? cacheRoot();
  const home = ferretDbHome(cacheDir);
  const binary = join(home, 'sluice-ferretdb');
  const hash = await sourceHash();
  const done = await readCompletion(home);
  if (done && done.sources === hash && existsSync(binary)) return { binary, version: FERRETDB_VERSION, built: false, ms: Date.now() - started };

  const go = await requireGoVersion(MIN_GO, HINT);
  await ensureDir(home);
  // -mod=readonly: go.mod and go.sum next to main.go pin every module; a build never rewrites them.
  const env = goEnv(cacheDir, { GOFLAGS: '-modcacherw -mod=readonly' });
  log(`building FerretDB ${FERRETDB_VERSION} (engine/dev/servers/ferretdb) from the Go module proxy into ${home} (a cold build takes a few minutes) ...`);
  await goBuild(go, { pkg: '.', flags: ['-tags', 'ferretdb_no_postgresql'], binary, env, cwd: SOURCE_DIR, timeoutMs: 30 * 60_000, what: 'FerretDB' });
  await markComplete(home, { version: FERRETDB_VERSION, sources: hash, buildMs: Date.now() - started });
  log(`built ${binary} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return { binary, version: FERRETDB_VERSION, built: true, ms: Date.now() - started };
}

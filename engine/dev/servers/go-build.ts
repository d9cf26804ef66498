/**
 * What the Go-built servers (FerretDB, the BigQuery emulator) share: the
 * `go` toolchain check, a build environment whose module and build caches
 * live in `${cacheRoot}/go/` (not the user's GOPATH, so a clean
 * `rm -rf ~/.cache/sluice` really starts over), a build that lands its
 * binary by rename (never half a binary in the cache), and the environment
 * variable naming a binary built elsewhere.
 */
import { existsSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { MissingToolError } from './prerequisites.ts';
import { runCommand, tailLines } from './process.ts';

/** `go` when it is on PATH and at least `min` (major, minor), else a MissingToolError carrying the hint. */
export async function requireGoVersion(min: readonly [number, number], hint: string): Promise<string> {
  const res = await runCommand('go', ['version'], { timeoutMs: 30_000 }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT' || e.code === 'EACCES') return undefined;
    throw e;
  });
  if (!res || res.code !== 0) throw new MissingToolError(`\`go\` was not found on PATH. ${hint}`);
  const m = /go(\d+)\.(\d+)/.exec(res.stdout);
  if (m && (Number(m[1]) < min[0] || (Number(m[1]) === min[0] && Number(m[2]) < min[1]))) {
    throw new MissingToolError(`\`go version\` says ${res.stdout.trim()}. ${hint}`);
  }
  return 'go';
}

/** The build's environment: pure Go (CGO_ENABLED=0), the local toolchain, the shared caches; `extra` adds or overrides. */
export function goEnv(cacheDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const goRoot = join(cacheDir, 'go');
  return {
    ...process.env,
    GOMODCACHE: join(goRoot, 'mod'),
    GOCACHE: join(goRoot, 'build'),
    // Writable module cache, so `rm -rf` of the cache works without chmod.
    GOFLAGS: '-modcacherw',
    CGO_ENABLED: '0',
    GOTOOLCHAIN: 'local',
    GOPROXY: process.env.GOPROXY ?? 'https://proxy.golang.org,direct',
    ...extra,
  };
}

/** `go build -trimpath <flags> <pkg>` in cwd, into a temp file renamed to `binary`; `what` names it in the error. */
export async function goBuild(
  go: string,
  o: { pkg: string; flags?: string[]; binary: string; env: NodeJS.ProcessEnv; cwd: string; timeoutMs: number; what: string },
): Promise<void> {
  const tmp = `${o.binary}.${process.pid}.tmp`;
  const build = await runCommand(go, ['build', '-trimpath', ...(o.flags ?? []), '-o', tmp, o.pkg], { env: o.env, cwd: o.cwd, timeoutMs: o.timeoutMs });
  if (build.code !== 0) {
    await rm(tmp, { force: true });
    throw new Error(`go build of ${o.what} failed (exit ${build.code}):\n${tailLines(build.stdout + build.stderr, 40)}`);
  }
  await rename(tmp, o.binary);
}

/** The binary an environment variable names instead of a build, checked to exist; undefined when it is unset. */
export function externalBinary(variable: string, hint: string): string | undefined {
  const path = process.env[variable];
  if (!path) return undefined;
  if (!existsSync(path)) throw new MissingToolError(`${variable}: ${path} does not exist. ${hint}`);
  return path;
}

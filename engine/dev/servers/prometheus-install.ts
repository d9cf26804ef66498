/**
 * Installs Prometheus from Debian's `prometheus` package into the cache:
 * `${cacheRoot}/prometheus/bin/{prometheus,promtool}`.
 *
 * The package is downloaded with `apt-get download` and unpacked with
 * `dpkg-deb -x` rather than installed with `apt-get install`: that needs no
 * root beyond the `apt-get update` CI runs anyway, starts no system service
 * (the package's postinst would start one on :9090), and leaves the machine
 * as it was. The binaries are static Go programs; the package's other
 * dependencies only serve its web console, which the tests do not use.
 *
 * SLUICE_PROMETHEUS_BIN=/path/to/prometheus uses another build instead
 * (promtool is looked up next to it), e.g. on a machine without apt.
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { cacheRoot, ensureDir, markComplete, readCompletion } from './cache.ts';
import { runCommand, tailLines } from './process.ts';
import { MissingToolError } from './prerequisites.ts';

export const PROMETHEUS_PACKAGE = 'prometheus';

export interface PrometheusInstall {
  prometheus: string;
  promtool: string;
  /** Debian package version, e.g. `2.42.0+ds-5+deb12u1`, or `external`. */
  version: string;
  downloaded: boolean;
  ms: number;
}

const HINT =
  'Prometheus comes from the Debian package `prometheus`: on Debian/Ubuntu run `apt-get update` (as root) so that ' +
  '`apt-get download prometheus` works (.ci/run does both), or point SLUICE_PROMETHEUS_BIN at a Prometheus 2.x binary ' +
  'with promtool next to it.';

export function prometheusHome(cacheDir = cacheRoot()): string {
  return join(cacheDir, 'prometheus');
}

/** The cached binaries, downloading the package first when they are not there. */
export async function installPrometheus(options: { cacheDir?: string; log?: (message: string) => void } = {}): Promise<PrometheusInstall> {
  const started = Date.now();
  const log = options.log ?? (() => {});
  const external = process.env.SLUICE_PROMETHEUS_BIN;
  if (external) {
    const promtool = join(dirname(external), 'promtool');
    for (const bin of [external, promtool]) {
      if (!existsSync(bin)) throw new MissingToolError(`SLUICE_PROMETHEUS_BIN: ${bin} does not exist. ${HINT}`);
    }
    return { prometheus: external, promtool, version: 'external', downloaded: false, ms: Date.now() - started };
  }
  const home = prometheusHome(options.cacheDir);
  const bin = join(home, 'bin');
  const result = (version: string, downloaded: boolean): PrometheusInstall => ({
    prometheus: join(bin, 'prometheus'),
    promtool: join(bin, 'promtool'),
    version,
    downloaded,
    ms: Date.now() - started,
  });
  const done = await readCompletion(home);
  if (done && existsSync(join(bin, 'prometheus')) && existsSync(join(bin, 'promtool'))) return result(String(done.version), false);

  log(`downloading the Debian package ${PROMETHEUS_PACKAGE} into ${home}`);
  await ensureDir(home);
  const work = await mkdtemp(join(home, 'download-'));
  try {
    const dl = await tool('apt-get', ['download', PROMETHEUS_PACKAGE], work);
    if (dl.code !== 0) {
      throw new MissingToolError(`\`apt-get download ${PROMETHEUS_PACKAGE}\` failed:\n${tailLines(dl.stderr || dl.stdout, 10)}\n${HINT}`);
    }
    const deb = (await readdir(work)).find((f) => f.endsWith('.deb'));
    if (!deb) throw new MissingToolError(`\`apt-get download ${PROMETHEUS_PACKAGE}\` left no .deb in ${work}. ${HINT}`);
    const version = (await tool('dpkg-deb', ['-f', deb, 'Version'], work)).stdout.trim();
    const unpacked = join(work, 'root');
    const x = await tool('dpkg-deb', ['-x', deb, unpacked], work);
    if (x.code !== 0) throw new Error(`dpkg-deb -x ${deb} failed:\n${tailLines(x.stderr, 10)}`);
    await ensureDir(bin);
    for (const name of ['prometheus', 'promtool']) await copyFile(join(unpacked, 'usr', 'bin', name), join(bin, name));
    await markComplete(home, { package: PROMETHEUS_PACKAGE, version, from: deb });
    return result(version, true);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs an apt/dpkg tool; a missing tool becomes a MissingToolError with the hint. */
async function tool(command: string, args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  try {
    return await runCommand(command, args, { cwd, timeoutMs: 300_000 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new MissingToolError(`\`${command}\` is not installed. ${HINT}`);
    throw error;
  }
}

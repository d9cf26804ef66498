/**
 * Installs every server the test suite talks to, before any test starts
 * (the integration project's first global setup, and `node bin/servers.js
 * all install`): Kafka and Cassandra jars from Maven Central, FerretDB and the
 * BigQuery emulator built from the Go module proxy, Prometheus from Debian's
 * package, Chromium (the status page's browser test) and PostgreSQL from
 * Debian (PostgreSQL is checked: installing it system-wide needs root, which
 * .ci/run has; Chromium is apt-installed when missing).
 *
 * Prerequisites are checked first, all of them, so a missing Java, Maven, Go,
 * apt or PostgreSQL fails at once, naming what to install, instead of after a
 * ten-minute build. Each server then prints one progress line with its time.
 * Nothing here has a timeout: a cold build takes what it takes (about 10
 * minutes for the emulator on 2 cores), and a test hook never runs it.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bigQueryEmulatorHome, installBigQueryEmulator, requireGo } from './bigquery-install.ts';
import { cacheRoot, readCompletion } from './cache.ts';
import { cassandraHome, installCassandra } from './cassandra-install.ts';
import { chromiumPath, installChromium } from './chromium.ts';
import { ferretDbHome, installFerretDb } from './ferretdb-install.ts';
import { installKafka, kafkaHome } from './kafka-install.ts';
import { requirePostgres } from './postgres.ts';
import { MissingToolError, requireJava, requireMaven } from './prerequisites.ts';
import { installPrometheus, prometheusHome } from './prometheus-install.ts';
import { runCommand } from './process.ts';

export interface ServerInstall {
  name: string;
  /** false when the cache already held it. */
  installed: boolean;
  ms: number;
  detail: string;
}

async function cached(home: string, file?: string): Promise<boolean> {
  return (await readCompletion(home)) !== undefined && (file === undefined || existsSync(join(home, file)));
}

async function requireAptGet(): Promise<void> {
  const res = await runCommand('apt-get', ['--version'], { timeoutMs: 30_000 }).catch(() => undefined);
  if (!res || res.code !== 0) {
    throw new MissingToolError(
      "Debian's apt-get is needed once, to download the prometheus package into the cache and to install chromium; or set SLUICE_PROMETHEUS_BIN to a prometheus binary (promtool beside it) and SLUICE_CHROMIUM_BIN to a Chromium.",
    );
  }
}

/** Every missing prerequisite at once, in one error; nothing is installed before this passes. */
export async function checkPrerequisites(cacheDir = cacheRoot()): Promise<void> {
  // Thunks, started together at the end: a promise made before the awaits
  // below would reject with no handler attached yet.
  const checks: Array<() => Promise<unknown>> = [requireJava, requirePostgres];
  const needMaven = !(await cached(kafkaHome(cacheDir))) || !(await cached(cassandraHome(cacheDir)));
  if (needMaven) checks.push(requireMaven);
  const needGo =
    (!process.env.SLUICE_BIGQUERY_EMULATOR_BIN && !(await cached(bigQueryEmulatorHome(cacheDir), 'bigquery-emulator'))) ||
    (!process.env.SLUICE_FERRETDB_BIN && !(await cached(ferretDbHome(cacheDir), 'sluice-ferretdb')));
  if (needGo) checks.push(requireGo);
  if ((!process.env.SLUICE_PROMETHEUS_BIN && !(await cached(prometheusHome(cacheDir)))) || !existsSync(chromiumPath())) checks.push(requireAptGet);
  const failures = (await Promise.allSettled(checks.map((check) => check()))).flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
  if (failures.length === 0) return;
  const lines = failures.map((e) => `- ${e instanceof Error ? e.message : String(e)}`);
  throw new MissingToolError(`The test servers cannot be installed; missing prerequisites:\n${lines.join('\n')}`);
}

/** Installs (or finds in the cache) every test server, one progress line each. */
export async function installAllServers(options: { log?: (message: string) => void } = {}): Promise<ServerInstall[]> {
  const log = options.log ?? ((m: string) => console.log(m));
  await checkPrerequisites();
  const steps: Array<[string, () => Promise<{ installed: boolean; detail: string }>]> = [
    ['Kafka', async () => { const r = await installKafka(); return { installed: r.downloaded, detail: `${r.version}, ${r.libsDir}` }; }],
    ['Cassandra', async () => { const r = await installCassandra(); return { installed: r.downloaded, detail: `${r.version}, ${r.libsDir}` }; }],
    ['Prometheus', async () => { const r = await installPrometheus(); return { installed: r.downloaded, detail: `${r.version}, ${r.prometheus}` }; }],
    ['PostgreSQL', async () => ({ installed: false, detail: await requirePostgres() })],
    ['FerretDB', async () => { const r = await installFerretDb({ log }); return { installed: r.built, detail: `${r.version}, ${r.binary}` }; }],
    ['Chromium', async () => { const r = await installChromium({ log }); return { installed: r.installed, detail: r.binary }; }],
    ['BigQuery emulator', async () => { const r = await installBigQueryEmulator({ log }); return { installed: r.built, detail: `${r.version}, ${r.binary}` }; }],
  ];
  const done: ServerInstall[] = [];
  for (const [name, step] of steps) {
    const started = Date.now();
    const { installed, detail } = await step();
    const ms = Date.now() - started;
    log(`[servers] ${name}: ${installed ? 'installed' : 'cached'} in ${(ms / 1000).toFixed(1)}s (${detail})`);
    done.push({ name, installed, ms, detail });
  }
  return done;
}

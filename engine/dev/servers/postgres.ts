/**
 * A real, throwaway PostgreSQL for tests, from the operating system's
 * packages (Debian: `apt-get install -y postgresql`; .ci/run does this):
 * `initdb` into a fresh temp directory, `pg_ctl start` on a free loopback
 * port, trust authentication, fsync off (the data dies with the test run).
 *
 *   const pg = await startPostgres();   // pg.url = 'postgres://postgres@127.0.0.1:<port>/postgres'
 *   await pg.stop();                    // fast shutdown, data directory removed
 *
 * initdb and postgres refuse to run as root. As root (CI) we run them as the
 * `postgres` system user the package creates, through `runuser`, and give
 * that user the data directory. The server is tied to this process: an exit
 * hook sends the postmaster SIGQUIT (immediate shutdown) if nobody stopped it.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDir } from './cache.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { MissingToolError } from './prerequisites.ts';
import { runChecked, runCommand, tailFile, waitForExit } from './process.ts';
import { killAtExit, releaseAtExit } from './server-child.ts';

const HINT =
  'Install PostgreSQL from your distribution, e.g. `apt-get install -y postgresql` (Debian/Ubuntu; .ci/run does this) ' +
  'or `brew install postgresql@16` (macOS), or set SLUICE_PG_BINDIR to the directory holding initdb and pg_ctl.';

export interface PostgresServer {
  /** Connection string for `pg`, user `postgres`, database `postgres`. */
  url: string;
  host: string;
  port: number;
  dataDir: string;
  pid: number;
  version: string;
  timings: { initdbMs: number; startMs: number; totalMs: number };
  stop(): Promise<void>;
}

/** The directory with initdb/pg_ctl: SLUICE_PG_BINDIR, else Debian's newest /usr/lib/postgresql/<v>/bin, else PATH. */
export async function findPgBinDir(): Promise<string | undefined> {
  const fromEnv = process.env.SLUICE_PG_BINDIR;
  if (fromEnv) return existsSync(join(fromEnv, 'initdb')) ? fromEnv : undefined;
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian)
      .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return join(debian, versions[0], 'bin');
  }
  const which = await runCommand('sh', ['-c', 'command -v initdb']).catch(() => undefined);
  const path = which?.code === 0 ? which.stdout.trim() : '';
  return path ? path.slice(0, path.lastIndexOf('/')) : undefined;
}

export async function requirePostgres(): Promise<string> {
  const dir = await findPgBinDir();
  if (!dir || !existsSync(join(dir, 'pg_ctl'))) {
    throw new MissingToolError(`PostgreSQL's initdb and pg_ctl are required for the users pipeline tests but were not found. ${HINT}`);
  }
  return dir;
}

/** `port`: preferred (another free one when taken); default any free port. */
export async function startPostgres(options: { log?: (m: string) => void; port?: number } = {}): Promise<PostgresServer> {
  const started = Date.now();
  const log = options.log ?? ((m: string) => void process.stderr.write(`[postgres] ${m}\n`));
  const bin = await requirePostgres();
  const asRoot = process.getuid?.() === 0;
  const user = asRoot ? await systemUser('postgres') : undefined;
  if (asRoot && !user) {
    throw new MissingToolError(`running as root, PostgreSQL must run as another user, but there is no \`postgres\` user. ${HINT}`);
  }
  const base = await ensureDir(join(tmpdir(), 'sluice-postgres'));
  const dir = await mkdtemp(join(base, 'run-'));
  const dataDir = join(dir, 'data');
  const socketDir = join(dir, 'sock');
  await ensureDir(socketDir);
  if (user) {
    await chown(dir, user.uid, user.gid);
    await chown(socketDir, user.uid, user.gid);
  }
  const run = (cmd: string, args: string[], timeoutMs: number) =>
    user ? runChecked('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { timeoutMs }) : runChecked(join(bin, cmd), args, { timeoutMs });

  const t0 = Date.now();
  await run('initdb', ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--no-instructions'], 120_000);
  const initdbMs = Date.now() - t0;

  const port = await pickPort(options.port);
  const logFile = join(dir, 'postgres.log');
  const t1 = Date.now();
  const serverOpts = `-p ${port} -k ${socketDir} -c listen_addresses=${LOOPBACK} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  try {
    await run('pg_ctl', ['-D', dataDir, '-l', logFile, '-o', serverOpts, '-w', '-t', '60', 'start'], 90_000);
  } catch (err) {
    throw new Error(`PostgreSQL did not start on ${LOOPBACK}:${port}: ${(err as Error).message}\n${await tailFile(logFile, 30)}`);
  }
  const startMs = Date.now() - t1;
  const pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
  // SIGQUIT: the postmaster's immediate shutdown, which also ends its children.
  killAtExit(pid, 'SIGQUIT');
  const version = (await runCommand(join(bin, 'postgres'), ['--version'])).stdout.trim();
  const totalMs = Date.now() - started;
  log(`${version} ready at ${LOOPBACK}:${port} (pid ${pid}) in ${(totalMs / 1000).toFixed(1)}s [initdb ${(initdbMs / 1000).toFixed(1)}s, start ${(startMs / 1000).toFixed(1)}s]`);
  return {
    url: `postgres://postgres@${LOOPBACK}:${port}/postgres`,
    host: LOOPBACK,
    port,
    dataDir,
    pid,
    version,
    timings: { initdbMs, startMs, totalMs },
    stop: async () => {
      releaseAtExit(pid);
      try {
        process.kill(pid, 'SIGINT'); // fast shutdown: roll back sessions, checkpoint, exit
      } catch {
        // already gone
      }
      if (!(await waitForExit(pid, 30_000))) process.kill(pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function systemUser(name: string): Promise<{ uid: number; gid: number } | undefined> {
  const uid = await runCommand('id', ['-u', name]).catch(() => undefined);
  const gid = await runCommand('id', ['-g', name]).catch(() => undefined);
  if (uid?.code !== 0 || gid?.code !== 0) return undefined;
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

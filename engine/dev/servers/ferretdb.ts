/**
 * A real MongoDB wire-protocol server for tests and benchmarks: FerretDB
 * 1.24 on its SQLite backend (built by ferretdb-install.ts), on 127.0.0.1
 * with a free port and a fresh data directory, tied to this process (killed
 * when it exits even if nobody calls stop()).
 *
 *   const db = await startFerretDb();
 *   new MongoClient(db.uri);
 *   await db.stop();            // SIGTERM, SIGKILL after 10 s; deletes the data
 *
 * "Ready" means a `ping` through the official driver succeeded. SQLite runs
 * with synchronous=NORMAL in WAL mode (see main.go): crash-safe for the
 * process, not for power loss, which is what a test server needs.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { FERRETDB_VERSION, installFerretDb } from './ferretdb-install.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { tailFile, terminate } from './process.ts';
import { releaseAtExit, spawnServer, waitUntilReady } from './server-child.ts';

export interface FerretDb {
  /** Connection string, e.g. mongodb://127.0.0.1:27017/ */
  uri: string;
  port: number;
  pid: number;
  dataDir: string;
  timings: { built: boolean; installMs: number; startMs: number };
  stop(): Promise<void>;
}

export interface StartFerretDbOptions {
  /** Preferred port; another free one when it is taken. Default: any free port. */
  port?: number;
  /** Keep the data directory on stop. */
  keepDataDir?: boolean;
  readyTimeoutMs?: number;
  log?: (message: string) => void;
}

export async function startFerretDb(o: StartFerretDbOptions = {}): Promise<FerretDb> {
  const log = o.log ?? ((m: string) => void process.stderr.write(`[ferretdb] ${m}\n`));
  const install = await installFerretDb({ log });
  const port = await pickPort(o.port);
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-ferretdb-'));
  const logFile = join(dataDir, 'server.log');
  const started = Date.now();
  const server = await spawnServer(install.binary, ['-listen', `${LOOPBACK}:${port}`, '-data', join(dataDir, 'db'), '-log-level', 'warn'], { logFile });
  const { pid } = server;
  const uri = `mongodb://${LOOPBACK}:${port}/`;
  const stop = async (): Promise<void> => {
    releaseAtExit(pid);
    await terminate(pid, 10_000);
    if (!o.keepDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  const ready = await waitUntilReady(
    server,
    async () => {
      const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
      try {
        await client.connect();
        await client.db('admin').command({ ping: 1 });
        return undefined;
      } catch (err) {
        return (err as Error).message;
      } finally {
        await client.close().catch(() => {});
      }
    },
    { timeoutMs, intervalMs: 100 },
  );
  if (ready.exited) {
    releaseAtExit(pid);
    const tail = await tailFile(logFile, 30);
    await rm(dataDir, { recursive: true, force: true });
    throw new Error(`FerretDB ${FERRETDB_VERSION} on port ${port} exited during startup (${ready.exited}). Log:\n${tail}`);
  }
  if (!ready.ok) {
    const tail = await tailFile(logFile, 30);
    await stop();
    throw new Error(`FerretDB ${FERRETDB_VERSION} at ${uri} did not answer a ping within ${timeoutMs} ms (${ready.reason}); stopped it. Log:\n${tail}`);
  }
  const startMs = Date.now() - started;
  log(`FerretDB ${FERRETDB_VERSION} (SQLite) ready at ${uri} (pid ${pid}) in ${(startMs / 1000).toFixed(1)}s${install.built ? ` after a ${(install.ms / 1000).toFixed(0)} s build` : ''}`);
  return { uri, port, pid, dataDir, timings: { built: install.built, installMs: install.ms, startMs }, stop };
}

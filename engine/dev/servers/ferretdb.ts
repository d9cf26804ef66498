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
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MongoClient } from 'mongodb';
import { FERRETDB_VERSION, installFerretDb } from './ferretdb-install.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { tailFile, terminate } from './process.ts';

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

const running = new Set<number>();
let hooked = false;

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pid of running) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });
}

export async function startFerretDb(o: StartFerretDbOptions = {}): Promise<FerretDb> {
  const log = o.log ?? ((m: string) => void process.stderr.write(`[ferretdb] ${m}\n`));
  const install = await installFerretDb({ log });
  const port = await pickPort(o.port);
  const dataDir = await mkdtemp(join(tmpdir(), 'sluice-ferretdb-'));
  const logFile = join(dataDir, 'server.log');
  const out = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(install.binary, ['-listen', `${LOOPBACK}:${port}`, '-data', join(dataDir, 'db'), '-log-level', 'warn'], {
    stdio: ['ignore', out, out],
  });
  closeSync(out);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `code ${code}`));
  child.unref();
  running.add(pid);
  hookExit();
  const uri = `mongodb://${LOOPBACK}:${port}/`;
  const stop = async (): Promise<void> => {
    running.delete(pid);
    await terminate(pid, 10_000);
    if (!o.keepDataDir) await rm(dataDir, { recursive: true, force: true });
  };

  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  let last = '';
  for (;;) {
    if (exited) {
      running.delete(pid);
      const tail = await tailFile(logFile, 30);
      await rm(dataDir, { recursive: true, force: true });
      throw new Error(`FerretDB ${FERRETDB_VERSION} on port ${port} exited during startup (${exited}). Log:\n${tail}`);
    }
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 1_000, connectTimeoutMS: 1_000 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      break;
    } catch (err) {
      last = (err as Error).message;
    } finally {
      await client.close().catch(() => {});
    }
    if (Date.now() > deadline) {
      const tail = await tailFile(logFile, 30);
      await stop();
      throw new Error(`FerretDB ${FERRETDB_VERSION} at ${uri} did not answer a ping within ${o.readyTimeoutMs ?? 60_000} ms (${last}); stopped it. Log:\n${tail}`);
    }
    await sleep(100);
  }
  const startMs = Date.now() - started;
  log(`FerretDB ${FERRETDB_VERSION} (SQLite) ready at ${uri} (pid ${pid}) in ${(startMs / 1000).toFixed(1)}s${install.built ? ` after a ${(install.ms / 1000).toFixed(0)} s build` : ''}`);
  return { uri, port, pid, dataDir, timings: { built: install.built, installMs: install.ms, startMs }, stop };
}

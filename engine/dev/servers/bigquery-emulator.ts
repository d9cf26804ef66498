/**
 * A BigQuery emulator (goccy/bigquery-emulator, built by bigquery-install.ts)
 * for tests: in-memory storage, on 127.0.0.1 with free ports (REST and the
 * Storage API's gRPC), tied to this process (killed when it exits).
 *
 *   const bq = await startBigQueryEmulator({ projectId: 'test' });
 *   new BigQuery({ projectId: 'test', apiEndpoint: bq.endpoint, ... });
 *   await bq.stop();
 *
 * "Ready" means GET /bigquery/v2/projects/<project>/datasets answered 200.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installBigQueryEmulator } from './bigquery-install.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { tailFile, terminate } from './process.ts';
import { releaseAtExit, spawnServer, waitUntilReady } from './server-child.ts';

export interface BigQueryEmulator {
  /** For the client's `apiEndpoint`, e.g. http://127.0.0.1:41234 */
  endpoint: string;
  projectId: string;
  pid: number;
  timings: { installMs: number; built: boolean; startMs: number };
  stop(): Promise<void>;
}

/** `port`: preferred REST port (another free one when taken); default any free port. */
export async function startBigQueryEmulator(o: { projectId?: string; log?: (m: string) => void; readyTimeoutMs?: number; port?: number } = {}): Promise<BigQueryEmulator> {
  const log = o.log ?? ((m: string) => void process.stderr.write(`[bigquery] ${m}\n`));
  const projectId = o.projectId ?? 'test';
  const install = await installBigQueryEmulator({ log });
  const port = await pickPort(o.port);
  const grpcPort = await pickPort(undefined, new Set([port]));
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bigquery-'));
  const logFile = join(dir, 'emulator.log');
  const started = Date.now();
  const server = await spawnServer(
    install.binary,
    [`--project=${projectId}`, `--host=${LOOPBACK}`, `--port=${port}`, `--grpc-port=${grpcPort}`, '--log-level=warn'],
    { logFile },
  );
  const { pid } = server;
  const endpoint = `http://${LOOPBACK}:${port}`;
  const stop = async (): Promise<void> => {
    releaseAtExit(pid);
    await terminate(pid, 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  const timeoutMs = o.readyTimeoutMs ?? 60_000;
  const ready = await waitUntilReady(
    server,
    () =>
      fetch(`${endpoint}/bigquery/v2/projects/${projectId}/datasets`)
        .then((r) => (r.status === 200 ? undefined : `status ${r.status}`))
        .catch((e: Error) => e.message),
    { timeoutMs, intervalMs: 50 },
  );
  if (ready.exited) {
    const tail = await tailFile(logFile, 30);
    releaseAtExit(pid);
    throw new Error(`BigQuery emulator exited during startup (${ready.exited}); log:\n${tail}`);
  }
  if (!ready.ok) {
    const tail = await tailFile(logFile, 30);
    await stop();
    throw new Error(`BigQuery emulator at ${endpoint} (pid ${pid}) did not answer within ${timeoutMs} ms; log:\n${tail}`);
  }
  const startMs = Date.now() - started;
  log(`BigQuery emulator ${install.version} ready at ${endpoint} (pid ${pid}) in ${(startMs / 1000).toFixed(2)}s [${install.built ? 'built' : 'cached'}: install ${(install.ms / 1000).toFixed(1)}s]`);
  return { endpoint, projectId, pid, timings: { installMs: install.ms, built: install.built, startMs }, stop };
}

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
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { installBigQueryEmulator } from './bigquery-install.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { tailFile, terminate } from './process.ts';

export interface BigQueryEmulator {
  /** For the client's `apiEndpoint`, e.g. http://127.0.0.1:41234 */
  endpoint: string;
  projectId: string;
  pid: number;
  timings: { installMs: number; built: boolean; startMs: number };
  stop(): Promise<void>;
}

const running = new Set<number>();
let hooked = false;

/** `port`: preferred REST port (another free one when taken); default any free port. */
export async function startBigQueryEmulator(o: { projectId?: string; log?: (m: string) => void; readyTimeoutMs?: number; port?: number } = {}): Promise<BigQueryEmulator> {
  const log = o.log ?? ((m: string) => void process.stderr.write(`[bigquery] ${m}\n`));
  const projectId = o.projectId ?? 'test';
  const install = await installBigQueryEmulator({ log });
  const port = await pickPort(o.port);
  const grpcPort = await pickPort(undefined, new Set([port]));
  const dir = await mkdtemp(join(tmpdir(), 'sluice-bigquery-'));
  const logFile = join(dir, 'emulator.log');
  const out = openSync(logFile, 'a');
  const started = Date.now();
  const child = spawn(
    install.binary,
    [`--project=${projectId}`, `--host=${LOOPBACK}`, `--port=${port}`, `--grpc-port=${grpcPort}`, '--log-level=warn'],
    { stdio: ['ignore', out, out] },
  );
  closeSync(out);
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `signal ${signal}` : `code ${code}`));
  child.unref();
  running.add(pid);
  if (!hooked) {
    hooked = true;
    process.on('exit', () => {
      for (const p of running) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {
          // gone
        }
      }
    });
  }
  const endpoint = `http://${LOOPBACK}:${port}`;
  const stop = async (): Promise<void> => {
    running.delete(pid);
    await terminate(pid, 10_000);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (o.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (exited) {
      const tail = await tailFile(logFile, 30);
      running.delete(pid);
      throw new Error(`BigQuery emulator exited during startup (${exited}); log:\n${tail}`);
    }
    const ok = await fetch(`${endpoint}/bigquery/v2/projects/${projectId}/datasets`)
      .then((r) => r.status === 200)
      .catch(() => false);
    if (ok) break;
    if (Date.now() > deadline) {
      const tail = await tailFile(logFile, 30);
      await stop();
      throw new Error(`BigQuery emulator at ${endpoint} (pid ${pid}) did not answer within ${o.readyTimeoutMs ?? 60_000} ms; log:\n${tail}`);
    }
    await sleep(50);
  }
  const startMs = Date.now() - started;
  log(`BigQuery emulator ${install.version} ready at ${endpoint} (pid ${pid}) in ${(startMs / 1000).toFixed(2)}s [${install.built ? 'built' : 'cached'}: install ${(install.ms / 1000).toFixed(1)}s]`);
  return { endpoint, projectId, pid, timings: { installMs: install.ms, built: install.built, startMs }, stop };
}

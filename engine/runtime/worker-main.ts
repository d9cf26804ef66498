/**
 * Worker thread entry. It loads the job module in this thread, then hands
 * every message from the main thread to the WorkerHost. Started through
 * spawn-worker.ts, so it may import TypeScript freely.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { serializeError } from '../errors.ts';
import { loadJob } from './job-loader.ts';
import type { FromWorker, ToWorker, WorkerInit } from './protocol.ts';
import { WorkerHost } from './worker-host.ts';

const init = workerData as WorkerInit;
const port = parentPort!;
const post = (msg: FromWorker, transfer?: ArrayBuffer[]): void => port.postMessage(msg, transfer ?? []);

// Anything that escapes reaches the main thread as a coded error, not a bare exit code.
process.on('unhandledRejection', (err) => post({ t: 'failed', error: serializeError(err), fatal: true }));
process.on('uncaughtException', (err) => post({ t: 'failed', error: serializeError(err), fatal: true }));

try {
  const job = await loadJob(init.jobModule);
  const host = new WorkerHost(init, post, job);
  port.on('message', (msg: ToWorker) => host.handle(msg));
  await host.start();
} catch (err) {
  post({ t: 'failed', error: serializeError(err), fatal: true });
}

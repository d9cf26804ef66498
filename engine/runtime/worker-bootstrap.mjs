// Plain JavaScript on purpose: this is the file a worker thread starts with,
// before any TypeScript loader exists in that thread. It registers tsx in the
// worker itself, then imports the real (TypeScript) entry named in workerData.
// See spawn-worker.ts for why `--import tsx` in execArgv is not enough on Node 20.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.__sluiceEntry);

// Plain JavaScript on purpose: this is the file a worker thread starts with,
// before any TypeScript loader exists in that thread. It registers tsx in the
// worker itself (the job module may be TypeScript, CommonJS or ESM, even when
// the engine itself runs compiled from dist/), then imports the real entry
// named in workerData. See spawn-worker.ts for why `--import tsx` in execArgv
// is not enough.
import { register as registerHooks } from 'node:module';
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
if (workerData.__sluiceSource) registerHooks('./source-conditions.mjs', import.meta.url);
await import(workerData.__sluiceEntry);

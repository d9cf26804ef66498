/**
 * Starting a worker thread that runs the project's own TypeScript.
 *
 * The pitfall: `new Worker('x.ts')` needs a TypeScript loader in the new
 * thread. Under vitest the parent is transformed by Vite, not by a Node
 * loader, so the worker inherits nothing. Passing `--import tsx` in execArgv
 * does not help on Node 20.20 either: the loader's hooks are registered
 * asynchronously and the worker's entry is resolved before they are ready, so
 * it fails with ERR_UNKNOWN_FILE_EXTENSION (test/engine/runtime shows both).
 *
 * We settle it in one place: every worker starts with a tiny JavaScript
 * bootstrap (worker-bootstrap.mjs) that calls tsx's `register()` inside the
 * worker and then dynamically imports the real entry. This behaves the same
 * in tests, in the CLI and in benchmarks, on Node 20, 22 and 24, and from any
 * current directory (the bootstrap resolves tsx from the project itself).
 */
import { Worker, type WorkerOptions } from 'node:worker_threads';

const bootstrap = new URL('./worker-bootstrap.mjs', import.meta.url);

/**
 * True when the engine runs from its TypeScript sources (the repository), false when it runs
 * compiled from the package's dist/. The worker then resolves `sluice` to the sources too.
 */
const fromSource = import.meta.url.endsWith('.ts');

/**
 * The URL of an engine module next to `base` (an `import.meta.url`), named by its source file:
 * `./worker-main.ts` is `./worker-main.js` once compiled. (tsc rewrites the extensions of
 * imports, not of URL strings.)
 */
export function siblingModule(relativeTs: string, base: string): URL {
  return new URL(base.endsWith('.ts') ? relativeTs : relativeTs.replace(/\.ts$/, '.js'), base);
}

/** Starts a worker that runs the TypeScript (or JavaScript) module at `url`. */
export function spawnWorker(url: URL, options: WorkerOptions = {}): Worker {
  const data = (options.workerData ?? {}) as Record<string, unknown>;
  return new Worker(bootstrap, { ...options, workerData: { ...data, __sluiceEntry: url.href, __sluiceSource: fromSource } });
}

import { describe, expect, it } from 'vitest';
import { once } from 'node:events';
import { spawnWorker } from '../../../engine/runtime/spawn-worker.ts';
import { deserializeError, ErrorCodes } from '../../../engine/errors.ts';

describe('spawnWorker', () => {
  it('runs the project TypeScript modules inside a worker thread', async () => {
    const w = spawnWorker(new URL('./fixtures/echo-worker.ts', import.meta.url), { workerData: { n: 21 } });
    const [msg] = (await once(w, 'message')) as [{ doubled: number; error: Parameters<typeof deserializeError>[0] }];
    expect(msg.doubled).toBe(42);
    // The coded error survives the thread boundary because it was serialized explicitly.
    const err = deserializeError(msg.error);
    expect(err.code).toBe(ErrorCodes.PROCESS);
    expect(err.retryable).toBe(true);
    await w.terminate();
  });

  it('fails loudly for a missing module rather than hanging', async () => {
    const w = spawnWorker(new URL('./fixtures/does-not-exist.ts', import.meta.url));
    const [err] = (await once(w, 'error')) as [Error];
    expect(String(err.message)).toMatch(/Cannot find module|ERR_MODULE_NOT_FOUND/);
  });
});

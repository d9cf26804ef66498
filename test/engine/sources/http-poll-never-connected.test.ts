/**
 * An HTTP source whose server never answered did not "read everything"
 * (issue 16, finding 4): the run fails, naming the source and the cause, and
 * "(nothing new to read …)" is not printed on a fresh state directory.
 */
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../../helpers/temp.ts';
import { runSluice } from '../../helpers/sluice-process.ts';

const JOB = fileURLToPath(new URL('../../fixtures/jobs/http-poll-job.ts', import.meta.url));

describe('an HTTP source that never connected', () => {
  it('fails the run with one line naming the source and the cause, and never claims the input was consumed', async () => {
    // A port that was free a moment ago: nothing listens there.
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    const port = (srv.address() as { port: number }).port;
    await new Promise((r) => srv.close(r));
    const url = `http://127.0.0.1:${port}/api`;
    const r = await runSluice(['run', JOB, '--set', `url=${url}`, '--state-dir', tempDir(), '--output-dir', tempDir(), '--no-http']);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).not.toContain('nothing new to read');
    const lines = r.stderr.split('\n').filter(Boolean);
    expect(lines.at(-1), r.stderr).toBe(`sluice: source "api" on partition 0: no successful poll of ${url} in 1500 ms (last error: ${url}: ECONNREFUSED)`);
    expect(lines.length, r.stderr).toBe(2);
  });
});

/**
 * A Cassandra that cannot be reached gives one line within the bound
 * (--connect-timeout), with the setting that holds its address (issue 16,
 * finding 4). Before: 65 s, and the driver's multi-line error dump printed
 * twice. No Cassandra is needed: the addresses are wrong on purpose.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.ts';
import { runSluice } from '../../helpers/sluice-process.ts';

const JOB = fileURLToPath(new URL('../../fixtures/jobs/cassandra-unreachable-job.ts', import.meta.url));
const lines = (s: string): string[] => s.split('\n').filter(Boolean);
const dirs = (): string[] => ['--state-dir', tempDir(), '--output-dir', tempDir(), '--no-http'];

describe('cassandra sink: connecting', () => {
  it('a refused address: one line after --connect-timeout, naming the address, the cause and the setting', async () => {
    const r = await runSluice(['run', JOB, '--set', 'cassandra=127.0.0.1:1', '--connect-timeout', '2000', ...dirs()]);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toEqual([
      expect.stringMatching(/^sluice: running cassandra-unreachable /),
      'sluice: cassandra sink: cannot connect to 127.0.0.1:1 within 2 s (127.0.0.1:1: ECONNREFUSED): its address is set with --set cassandra=host:port',
    ]);
  });

  it('a host that does not resolve fails at once, the cause printed once', async () => {
    const r = await runSluice(['run', JOB, '--set', 'cassandra=no-such-host.invalid:9042', '--connect-timeout', '600000', ...dirs()]);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toEqual([
      expect.stringMatching(/^sluice: running cassandra-unreachable /),
      'sluice: cassandra sink: cannot resolve no-such-host.invalid:9042 (No host could be resolved): its address is set with --set cassandra=host:port',
    ]);
  });
});

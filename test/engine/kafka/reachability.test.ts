/**
 * An unreachable or unresolvable Kafka gives one line within a bound, with a
 * hint at the setting that holds the address (issue 16, finding 4). Before,
 * an unreachable broker printed 26 s of kafkajs JSON lines with stacks.
 * No broker is needed: the addresses are wrong on purpose.
 */
import { describe, expect, it } from 'vitest';
import { tempDir } from '../../helpers/temp.ts';
import { runSluice } from '../../helpers/sluice-process.ts';

const lines = (s: string): string[] => s.split('\n').filter(Boolean);

describe('reaching Kafka', () => {
  it('an unreachable broker: one line after the bound (--connect-timeout), naming the address and the flag, no kafkajs output', async () => {
    const r = await runSluice(['run', 'keyed-count', '--brokers', '127.0.0.1:1', '--connect-timeout', '2000', '--state-dir', tempDir(), '--no-http']);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toEqual([
      expect.stringMatching(/^sluice: running keyed-count /),
      'sluice: cannot reach Kafka at 127.0.0.1:1 within 2 s (connect ECONNREFUSED 127.0.0.1:1): is it running? Its address is set with --brokers or SLUICE_BROKERS.',
    ]);
  });

  it('the bound is 15 s unless set, for status too', async () => {
    const r = await runSluice(['status', 'keyed-count', '--brokers', '127.0.0.1:1']);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toEqual([
      'sluice status: cannot reach Kafka at 127.0.0.1:1 within 15 s (connect ECONNREFUSED 127.0.0.1:1): is it running? Its address is set with --brokers or SLUICE_BROKERS.',
    ]);
  });

  it('a host that does not resolve fails at once, the cause printed once', async () => {
    const r = await runSluice(['run', 'keyed-count', '--brokers', 'no-such-broker.invalid:9092', '--connect-timeout', '600000', '--state-dir', tempDir(), '--no-http']);
    expect(r.code, r.stderr).toBe(1);
    expect(lines(r.stderr), r.stderr).toEqual([
      expect.stringMatching(/^sluice: running keyed-count /),
      expect.stringMatching(/^sluice: cannot resolve the Kafka broker host no-such-broker\.invalid \(getaddrinfo (ENOTFOUND|EAI_NONAME|EAI_FAIL) no-such-broker\.invalid\): its address is set with --brokers or SLUICE_BROKERS$/),
    ]);
  });
});

/**
 * The memory bounds a `sluice run` takes on its command line or in its
 * --config file (docs/engine.md, "Memory budget"): each reaches the run
 * options, and a bad value is refused with the flag's name.
 */
import { describe, expect, it } from 'vitest';
import { resolveRunOptions } from '../../../engine/cli/options.ts';

describe('memory options', () => {
  it('reads every bound from the command line', () => {
    const o = resolveRunOptions(
      { 'max-epoch-records': '30000', 'max-undelivered-records': '30000', 'max-inflight-bytes': '4194304', 'worker-heap-mb': '192', 'cache-max-entries': '10000' },
      {},
      false,
    );
    expect(o).toMatchObject({ maxEpochRecords: 30000, maxUndeliveredRecords: 30000, maxInflightBytes: 4194304, workerHeapMb: 192, cacheMaxEntries: 10000 });
  });

  it('refuses a bound that is not a positive integer, naming it', () => {
    expect(() => resolveRunOptions({ 'max-inflight-bytes': '4 MiB' }, {}, false)).toThrow(/--max-inflight-bytes/);
  });

  it('reads the input alignment from the command line; 0 turns it off, a negative is refused', () => {
    expect(resolveRunOptions({ 'input-alignment': '0' }, {}, false).inputAlignmentMs).toBe(0);
    expect(resolveRunOptions({}, {}, false).inputAlignmentMs).toBeUndefined();
    expect(() => resolveRunOptions({ 'input-alignment': '-5' }, {}, false)).toThrow(/--input-alignment/);
  });
});

import { describe, expect, it } from 'vitest';
import { describeRestore, type RestoreProgress } from '../../../engine/runtime/restore-progress.ts';

const base: RestoreProgress = { partition: 3, owner: 'h1 pid 42', state: 'restoring', records: 2500, total: 10_000, keys: 0, startedAt: 1_000_000, at: 1_002_000 };

describe('describeRestore (sluice status)', () => {
  it('shows a restore in progress as a share of the changelog read, and who does it', () => {
    expect(describeRestore(base, 1_003_000)).toBe('restoring 25% (2500/10000 records, 3.0 s) on h1 pid 42');
  });
  it('says how long a restoring partition has been silent (its process may have died)', () => {
    expect(describeRestore(base, 1_032_000)).toBe('restoring 25% (2500/10000 records, 32.0 s, no report for 30 s) on h1 pid 42');
  });
  it('shows a finished restore with its keys and duration, and none as "-"', () => {
    expect(describeRestore({ ...base, state: 'restored', records: 10_000, keys: 812, at: 1_004_500 }, 1_064_500)).toBe('restored 812 keys in 4.5 s, 60 s ago, on h1 pid 42');
    expect(describeRestore(undefined)).toBe('-');
  });
});

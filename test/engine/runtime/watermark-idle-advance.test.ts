/** WatermarkTracker's idle policies: 'hold' (default) and 'wall-clock'. */
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../../engine/runtime/watermark-tracker.ts';

describe('idle partitions', () => {
  it("hold: an input silent past its idle timeout stops counting, and all idle holds the watermark", () => {
    const t = new WatermarkTracker([
      { maxOutOfOrdernessMs: 10, idleTimeoutMs: 1000 },
      { maxOutOfOrdernessMs: 10, idleTimeoutMs: 1000 },
    ]);
    t.observe(0, 100, 0);
    t.observe(1, 50, 0);
    expect(t.advance(0)).toBe(40);
    t.observe(0, 200, 900);
    expect(t.advance(1500)).toBe(190); // input 1 idle since 0: left out
    expect(t.advance(5000)).toBeUndefined(); // both idle: held
  });

  it('wall-clock: an idle input advances to now - bound, but not before its first record', () => {
    const t = new WatermarkTracker([{ maxOutOfOrdernessMs: 10, idleTimeoutMs: 1000, idleAdvance: 'wall-clock' }]);
    expect(t.advance(1_000_000)).toBeUndefined(); // never had a record: no jump
    t.observe(0, 100, 1_000_000);
    expect(t.advance(1_000_500)).toBe(90); // active: max seen - bound
    expect(t.advance(1_001_000)).toBe(1_000_990); // idle: now - bound
    t.observe(0, 120, 1_001_100); // an old record does not pull it back
    expect(t.advance(1_001_200)).toBeUndefined();
    expect(t.watermark).toBe(1_000_990);
  });
});

/**
 * Event time through repartition topics: an upstream input's watermark is the
 * minimum of its upstream partitions' forwarded watermarks (WatermarkTracker
 * lanes), record times play no part, and watermarkOver() gives the event
 * time of a subset of inputs (one stage) without the others.
 */
import { describe, expect, it } from 'vitest';
import { WatermarkTracker } from '../../../engine/runtime/watermark-tracker.ts';

describe('upstream watermarks', () => {
  it('waits for every upstream partition, then takes their minimum; record times do not move it', () => {
    const t = new WatermarkTracker([{ maxOutOfOrdernessMs: 4000, idleTimeoutMs: 0, upstream: true }]);
    t.observe(0, 1_000_000, 0); // a record far ahead: ignored for an upstream input
    expect(t.advance(0)).toBeUndefined();
    t.observeLane(0, 0, 500, 3, 0);
    t.observeLane(0, 2, 900, 3, 0);
    expect(t.advance(0)).toBeUndefined(); // lane 1 has not reported: held
    t.observeLane(0, 1, 700, 3, 0);
    expect(t.advance(0)).toBe(500); // no out-of-orderness bound on top: the lanes' minimum
    t.observeLane(0, 0, 800, 3, 0);
    expect(t.advance(0)).toBe(700);
    t.observeLane(0, 1, 600, 3, 0); // a repeated (older) watermark does not pull it back
    expect(t.advance(0)).toBeUndefined();
    expect(t.watermark).toBe(700);
  });

  it('watermarkOver: a stage sees only the inputs upstream of it', () => {
    const t = new WatermarkTracker([
      { maxOutOfOrdernessMs: 100, idleTimeoutMs: 0 },
      { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0, upstream: true },
    ]);
    t.observe(0, 1000, 0);
    // The raw input's stage is at 900 while the repartitioned input holds the actor back.
    expect(t.watermarkOver([0], 0)).toBe(900);
    expect(t.watermarkOver([1], 0)).toBe(-Infinity);
    expect(t.advance(0)).toBeUndefined();
    t.observeLane(1, 0, 850, 1, 0);
    expect(t.watermarkOver([1], 0)).toBe(850);
    expect(t.advance(0)).toBe(850);
    t.finish(0);
    expect(t.watermarkOver([0], 0)).toBe(Infinity);
    expect(t.watermarkOver([], 0)).toBe(-Infinity);
  });
});

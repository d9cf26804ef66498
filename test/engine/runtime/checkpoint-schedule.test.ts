/**
 * CheckpointSchedule's delivery-backlog bound: with the defaults, one epoch
 * that is large enough presses the actor (four epochs are no size bound at a
 * catch-up's rate), and the press holds until half is delivered, so a
 * delivered epoch does not resume input that the next batch pauses again.
 */
import { describe, expect, it } from 'vitest';
import { CheckpointSchedule, EPOCH_BOUNDS } from '../../../engine/runtime/checkpoint-schedule.ts';

describe('CheckpointSchedule backlog', () => {
  it('bounds undelivered records by default, not only undelivered epochs', () => {
    expect(Number.isFinite(EPOCH_BOUNDS.maxUndeliveredRecords)).toBe(true);
    const s = new CheckpointSchedule(1000, 100);
    const bound = s.maxUndeliveredRecords;
    expect(s.behind(1, bound - 1, 0)).toBe(false);
    // One epoch over the bound: pressed, though far fewer than maxBacklogEpochs wait.
    expect(s.behind(1, bound, 0)).toBe(true);
    // Still pressed above half of the bound, released at half.
    expect(s.behind(1, Math.floor(bound / 2) + 1, 0)).toBe(true);
    expect(s.behind(1, Math.floor(bound / 2), 0)).toBe(false);
  });

  it('presses at maxBacklogEpochs whatever their size', () => {
    const s = new CheckpointSchedule(1000, 100, Infinity, Infinity);
    expect(s.behind(s.maxBacklogEpochs - 1, 10, 0)).toBe(false);
    expect(s.behind(s.maxBacklogEpochs, 10, 0)).toBe(true);
    expect(s.behind(s.maxBacklogEpochs / 2, 10, 0)).toBe(false);
  });
});

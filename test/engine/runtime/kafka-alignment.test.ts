import { describe, expect, it } from 'vitest';
import { InputAlignment } from '../../../engine/runtime/kafka-alignment.ts';

/** An alignment of actor 0 with `inputs` inputs, recording what it holds. */
function setup(maxDriftMs: number, inputs: number | boolean[] = 2) {
  const held = new Set<number>();
  const log: string[] = [];
  const a = new InputAlignment(
    maxDriftMs,
    (p, i) => {
      expect(held.has(i)).toBe(false);
      held.add(i);
      log.push(`hold ${p}/${i}`);
    },
    (p, i) => {
      expect(held.has(i)).toBe(true);
      held.delete(i);
      log.push(`release ${p}/${i}`);
    },
    500,
  );
  a.open(0, typeof inputs === 'number' ? Array.from({ length: inputs }, () => true) : inputs);
  return { a, held, log };
}

describe('InputAlignment', () => {
  it('holds the input ahead by more than the drift, and releases it when the other is within half of it', () => {
    const { a, held } = setup(10_000);
    a.posted(0, 0, 100_000, false, 0);
    a.posted(0, 1, 105_000, false, 0);
    expect(held.size).toBe(0);
    a.posted(0, 1, 111_000, false, 10);
    expect([...held]).toEqual([1]);
    // Input 0 catches up, but not yet to half the drift.
    a.posted(0, 0, 104_000, false, 20);
    expect([...held]).toEqual([1]);
    a.posted(0, 0, 106_000, false, 30);
    expect(held.size).toBe(0);
  });

  it('never holds the input furthest behind, with three inputs', () => {
    const { a, held } = setup(1_000, 3);
    a.posted(0, 0, 50_000, false, 0);
    a.posted(0, 1, 10_000, false, 0);
    a.posted(0, 2, 30_000, false, 0);
    expect([...held].sort()).toEqual([0, 2]);
    a.posted(0, 1, 29_700, false, 10);
    expect([...held]).toEqual([0]);
  });

  it('does not wait for an input that is caught up, ended, quiet or has posted nothing yet', () => {
    const { a, held } = setup(1_000, 2);
    // Nothing from input 1 yet: an empty partition holds nothing back.
    a.posted(0, 0, 60_000, false, 0);
    expect(held.size).toBe(0);
    // Input 1 behind, with more to read: input 0 waits.
    a.posted(0, 1, 10_000, false, 0);
    expect([...held]).toEqual([0]);
    // Input 1 reached its high watermark: nothing more to read, so input 0 goes on.
    a.posted(0, 1, 11_000, true, 10);
    expect(held.size).toBe(0);
    // Behind again, then quiet for longer than idleMs: released by the periodic tick.
    a.posted(0, 1, 12_000, false, 20);
    expect([...held]).toEqual([0]);
    a.tick(400, () => false);
    expect([...held]).toEqual([0]);
    a.tick(521, () => false);
    expect(held.size).toBe(0);
    // A bounded run's input read to its bound holds nothing back either.
    a.posted(0, 1, 13_000, false, 600);
    expect([...held]).toEqual([0]);
    a.ended(0, 1, 610);
    expect(held.size).toBe(0);
  });

  it('keeps holding while the actor is paused: the input behind is quiet because of the pause, not idle', () => {
    const { a, held } = setup(1_000, 2);
    a.posted(0, 0, 1_000, false, 0);
    a.posted(0, 1, 9_000, false, 0);
    expect([...held]).toEqual([1]);
    let paused = true;
    a.tick(2_000, () => paused);
    a.tick(4_000, () => paused);
    expect([...held]).toEqual([1]);
    // Resumed: the quiet counts from the resume.
    paused = false;
    a.tick(4_400, () => paused);
    expect([...held]).toEqual([1]);
    a.tick(4_600, () => paused);
    expect(held.size).toBe(0);
  });

  it('leaves out inputs that are not aligned (internal topics): never held, never holding the others back', () => {
    const { a, held } = setup(1_000, [true, false, true]);
    a.posted(0, 1, 0, false, 0);
    a.posted(0, 0, 50_000, false, 0);
    a.posted(0, 2, 50_500, false, 0);
    expect(held.size).toBe(0);
    a.posted(0, 1, 999_999, false, 1);
    expect(held.size).toBe(0);
    a.posted(0, 2, 60_000, false, 2);
    expect([...held]).toEqual([2]);
  });

  it('releases what it held when the actor closes, and is off at 0 or with one input', () => {
    const { a, held, log } = setup(1_000);
    a.posted(0, 0, 1_000, false, 0);
    a.posted(0, 1, 9_000, false, 0);
    expect([...held]).toEqual([1]);
    a.close(0);
    expect(held.size).toBe(0);
    a.posted(0, 1, 90_000, false, 1);
    expect(log).toEqual(['hold 0/1', 'release 0/1']);

    const off = setup(0);
    off.a.posted(0, 0, 0, false, 0);
    off.a.posted(0, 1, 1e9, false, 0);
    expect(off.held.size).toBe(0);
    const single = setup(1_000, 1);
    single.a.posted(0, 0, 1e9, false, 0);
    expect(single.held.size).toBe(0);
    const oneAligned = setup(1_000, [true, false]);
    oneAligned.a.posted(0, 0, 1e9, false, 0);
    oneAligned.a.posted(0, 1, 0, false, 0);
    expect(oneAligned.held.size).toBe(0);
  });
});

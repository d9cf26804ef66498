import { describe, expect, it } from 'vitest';
import { PartitionTracker } from '../../../engine/kafka/partition-tracker.ts';

const tp = (partition: number) => ({ topic: 't', partition });

describe('PartitionTracker', () => {
  it('delivers nothing until a partition is marked ready', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0), tp(1)]);
    expect(t.isOwned('t:0')).toBe(true);
    expect(t.canDeliver('t:0')).toBe(false);
    expect(t.markReady(gen, 't:0', 100)).toBe(true);
    expect(t.canDeliver('t:0')).toBe(true);
    expect(t.position('t:0')).toBe(100);
    expect(t.canDeliver('t:1')).toBe(false);
  });

  it('leaves the position unknown for -1 (committed/earliest) until the first batch', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0)]);
    t.markReady(gen, 't:0', -1);
    expect(t.position('t:0')).toBeUndefined();
    t.advance('t:0', 7);
    expect(t.position('t:0')).toBe(7);
  });

  it('ignores onAssigned results of a superseded generation', () => {
    const t = new PartitionTracker();
    const g1 = t.assign([tp(0)]);
    t.revokeAll();
    expect(t.markReady(g1, 't:0', 5)).toBe(false);
    const g2 = t.assign([tp(0)]);
    expect(t.markReady(g1, 't:0', 5)).toBe(false);
    expect(t.canDeliver('t:0')).toBe(false);
    expect(t.markReady(g2, 't:0', 6)).toBe(true);
    expect(t.position('t:0')).toBe(6);
  });

  it('refuses partitions not in the generation', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0)]);
    expect(t.markReady(gen, 't:1', 0)).toBe(false);
  });

  it('revokeAll stops delivery at once and returns what was owned', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0), tp(1)]);
    t.markReady(gen, 't:0', 0);
    expect(t.revokeAll()).toEqual([tp(0), tp(1)]);
    expect(t.canDeliver('t:0')).toBe(false);
    expect(t.assignment()).toEqual([]);
    expect(t.revokeAll()).toEqual([]);
  });

  it('keeps engine pauses across rebalances; resume reports whether the partition may be fetched', () => {
    const t = new PartitionTracker();
    let gen = t.assign([tp(0)]);
    t.markReady(gen, 't:0', 0);
    t.pause('t:0');
    expect(t.canDeliver('t:0')).toBe(false);
    t.revokeAll();
    gen = t.assign([tp(0)]);
    t.markReady(gen, 't:0', 0);
    expect(t.isPaused('t:0')).toBe(true);
    expect(t.canDeliver('t:0')).toBe(false);
    expect(t.resume('t:0')).toBe(true);
    expect(t.canDeliver('t:0')).toBe(true);
    t.pause('t:1');
    expect(t.resume('t:1')).toBe(false); // not owned, so not ready: stays unfetched
  });

  it('never moves a position backwards', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0)]);
    t.markReady(gen, 't:0', 10);
    t.advance('t:0', 5);
    expect(t.position('t:0')).toBe(10);
    t.advance('t:0', 12);
    expect(t.position('t:0')).toBe(12);
  });

  it('reports lag as high watermark minus position for owned partitions it knows both of', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0), tp(1), tp(2)]);
    t.markReady(gen, 't:0', 10);
    t.markReady(gen, 't:1', -1);
    t.markReady(gen, 't:2', 50);
    t.noteHighWatermark('t:0', 25);
    t.noteHighWatermark('t:1', 8);
    t.noteHighWatermark('t:9', 100); // not owned: ignored
    expect([...t.lag()]).toEqual([['t:0', 15]]);
    t.advance('t:0', 25);
    expect(t.lag().get('t:0')).toBe(0);
  });

  it('fetches a partition only while it is ready, not paused and not held; a hold ends at revocation', () => {
    const t = new PartitionTracker();
    const gen = t.assign([tp(0)]);
    t.hold('t:0');
    expect(t.markReady(gen, 't:0', 0)).toBe(true);
    expect(t.fetchable('t:0')).toBe(false);
    // Held and paused: neither a resume nor a release alone makes it fetchable.
    t.pause('t:0');
    expect(t.resume('t:0')).toBe(false);
    t.pause('t:0');
    expect(t.release('t:0')).toBe(false);
    expect(t.resume('t:0')).toBe(true);
    // Held delivers what was fetched (canDeliver), paused does not.
    t.hold('t:0');
    expect(t.canDeliver('t:0')).toBe(true);
    expect(t.fetchable('t:0')).toBe(false);
    // Revoked while held: it comes back unheld.
    t.revokeAll();
    const gen2 = t.assign([tp(0)]);
    t.markReady(gen2, 't:0', 0);
    expect(t.fetchable('t:0')).toBe(true);
    // Releasing what was not held changes nothing.
    expect(t.release('t:0')).toBe(false);
  });
});

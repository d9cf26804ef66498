import { describe, it, expect } from 'vitest';
import { StateCache, type CacheEntry, type EntryOwner } from '../../state/state-cache.ts';

function owner(): EntryOwner & { evictedKeys: unknown[] } {
  const evictedKeys: unknown[] = [];
  return { evictedKeys, evicted: (e: CacheEntry) => evictedKeys.push(e.key) };
}

describe('StateCache', () => {
  it('evicts the least recently used clean entry', () => {
    const o = owner();
    const c = new StateCache(3);
    const a = c.create(o, 'a', undefined, 1, false, 1);
    c.create(o, 'b', undefined, 2, false, 1);
    c.create(o, 'c', undefined, 3, false, 1);
    c.touch(a);
    c.create(o, 'd', undefined, 4, false, 1);
    expect(o.evictedKeys).toEqual(['b']);
    expect(c.size).toBe(3);
  });

  it('never evicts dirty entries, and lets them exceed the bound until they are clean', () => {
    const o = owner();
    const c = new StateCache(2);
    c.create(o, 'clean', undefined, 0, false, 1);
    for (let i = 0; i < 5; i++) c.create(o, i, undefined, i, true, -1);
    expect(o.evictedKeys).toEqual(['clean']);
    expect(c.size).toBe(5);
    expect(c.dirtyCount).toBe(5);
    for (const e of c.dirty) e.pendingSize = 3;
    c.markAllClean();
    expect(c.size).toBe(2);
    expect(c.dirtyCount).toBe(0);
    // The two most recently dirtied survive.
    expect(o.evictedKeys).toEqual(['clean', 0, 1, 2]);
  });

  it('lets a committed delete leave the cache, its owner told, instead of caching "absent"', () => {
    const o = owner();
    const c = new StateCache(10);
    const kept = c.create(o, 'kept', undefined, 1, true, -1);
    const gone = c.create(o, 'gone', undefined, 2, false, 1);
    c.write(gone, undefined);
    const newAndDeleted = c.create(o, 'new-and-deleted', undefined, undefined, true, 0);
    for (const e of c.dirty) e.pendingSize = e.value === undefined ? 0 : 3;
    c.markAllClean();
    expect(o.evictedKeys).toEqual(['gone', 'new-and-deleted']);
    expect(c.size).toBe(1);
    expect(kept.value).toBe(1);
    expect(kept.dirty).toBe(false);
    expect(kept.storedSize).toBe(3);
    // The released objects are recycled for new entries.
    const next = c.create(o, 'next', undefined, 4, false, 3);
    expect(next).toBe(newAndDeleted);
    expect([next.key, next.owner, next.value]).toEqual(['next', o, 4]);
  });

  it('turns a clean entry dirty in place, off the eviction list', () => {
    const o = owner();
    const c = new StateCache(1);
    const a = c.create(o, 'a', undefined, 1, false, 1);
    c.write(a, 2);
    c.create(o, 'b', undefined, 1, false, 1);
    expect(o.evictedKeys).toEqual([]); // 'a' is dirty, the bound is exceeded
    c.create(o, 'c', undefined, 1, false, 1);
    expect(o.evictedKeys).toEqual(['b']);
    expect(a.value).toBe(2);
  });

  it('recycles evicted entry objects', () => {
    const o = owner();
    const c = new StateCache(1);
    const a = c.create(o, 'a', undefined, 1, false, 1);
    const b = c.create(o, 'b', undefined, 1, false, 1);
    const d = c.create(o, 'd', undefined, 1, false, 1);
    expect(d === a || d === b).toBe(true);
    expect(d.key).toBe('d');
  });

  it('gives an entry hit since it was linked a second chance, once', () => {
    const o = owner();
    const c = new StateCache(3);
    const a = c.create(o, 'a', undefined, 1, false, 1);
    const b = c.create(o, 'b', undefined, 2, false, 1);
    c.create(o, 'c', undefined, 3, false, 1);
    c.touch(a);
    c.touch(b);
    c.create(o, 'd', undefined, 4, false, 1); // a and b go back to the head: c goes
    expect(o.evictedKeys).toEqual(['c']);
    // No hits since: a and b, relinked before d was created, go first.
    c.create(o, 'e', undefined, 5, false, 1);
    c.create(o, 'f', undefined, 6, false, 1);
    expect(o.evictedKeys).toEqual(['c', 'a', 'b']);
  });

  it('ends an eviction when every clean entry was hit', () => {
    const o = owner();
    const c = new StateCache(100);
    const all = [];
    for (let i = 0; i < 100; i++) all.push(c.create(o, i, undefined, i, false, 1));
    for (const e of all) c.touch(e);
    c.create(o, 'new', undefined, 0, false, 1);
    expect(o.evictedKeys).toEqual([0]);
    expect(c.size).toBe(100);
  });
});

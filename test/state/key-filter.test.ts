import { describe, it, expect } from 'vitest';
import { KeyFilter, stateSeed } from '../../state/key-filter.ts';

const seedA = stateSeed('join', 'left');
const seedB = stateSeed('join', 'right');

describe('KeyFilter', () => {
  it('never forgets an added slot, and rules out nearly every other one', () => {
    const f = new KeyFilter(200_000);
    let refused = 0;
    for (let i = 0; i < 100_000; i++) {
      if (!f.add(seedA, `order-${i}`)) refused++;
      if (!f.add(seedB, i * 1000, `field-${i % 7}`)) refused++;
    }
    expect(refused).toBe(0);
    for (let i = 0; i < 100_000; i++) {
      if (!f.mayContain(seedA, `order-${i}`)) throw new Error(`lost order-${i}`);
      if (!f.mayContain(seedB, i * 1000, `field-${i % 7}`)) throw new Error(`lost ${i * 1000}/field-${i % 7}`);
    }
    // Never added: other keys, the same keys under another state, numbers as strings, another field.
    let yes = 0;
    for (let i = 0; i < 100_000; i++) {
      if (f.mayContain(seedA, `order-${i + 100_000}`)) yes++;
      if (f.mayContain(seedB, `order-${i}`)) yes++;
      if (f.mayContain(seedA, String(i))) yes++;
      if (f.mayContain(seedB, i * 1000, `field-${(i % 7) + 1}`)) yes++;
    }
    // 16-bit fingerprints in buckets of 4 at half load: about 1 in 16,000 expected.
    expect(yes / 400_000).toBeLessThan(0.001);
  });

  it('hashes a number and its string apart (distinct LMDB keys)', () => {
    const f = new KeyFilter(1000);
    f.add(seedA, 1);
    expect(f.mayContain(seedA, 1)).toBe(true);
    let yes = 0;
    for (let i = 0; i < 10_000; i++) if (f.mayContain(seedA, String(i))) yes++;
    expect(yes).toBeLessThan(5);
  });

  it('removes one copy of a slot per remove, so a slot added twice stays until removed twice', () => {
    const f = new KeyFilter(1000);
    f.add(seedA, 'k');
    f.add(seedA, 'k');
    expect(f.size).toBe(2);
    f.remove(seedA, 'k');
    expect(f.mayContain(seedA, 'k')).toBe(true);
    f.remove(seedA, 'k');
    expect(f.size).toBe(0);
    expect(f.mayContain(seedA, 'k')).toBe(false);
  });

  it('keeps its answers right through churn: slots added and removed many times over its size', () => {
    const f = new KeyFilter(10_000);
    const live = new Set<number>();
    let next = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 5_000; i++) {
        live.add(next);
        if (!f.add(seedA, next++)) throw new Error(`refused ${next - 1} in round ${round}`);
      }
      for (const k of [...live].slice(0, 5_000)) {
        f.remove(seedA, k);
        live.delete(k);
      }
      for (const k of live) if (!f.mayContain(seedA, k)) throw new Error(`lost ${k} in round ${round}`);
    }
    expect(f.size).toBe(live.size);
    let yes = 0;
    for (let i = 0; i < 10_000; i++) if (f.mayContain(seedA, next + i)) yes++;
    expect(yes).toBeLessThan(10);
  });

  it('refuses when full and then answers "maybe" to everything rather than lose a slot', () => {
    const f = new KeyFilter(1);
    const cap = f.capacity;
    let i = 0;
    while (f.add(seedA, i)) i++;
    expect(i).toBeGreaterThan(cap * 0.8);
    expect(i).toBeLessThanOrEqual(cap);
    for (let j = 0; j < i; j++) expect(f.mayContain(seedA, j)).toBe(true);
    expect(f.mayContain(seedA, 'never added')).toBe(true);
    expect(f.add(seedA, 'another')).toBe(false);
  });
});

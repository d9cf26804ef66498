import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { openStateEnv, closeStateEnv } from '../../state/env.ts';
import { compareStateKeys, checkKey, RANGE_END, type StateKey } from '../../state/key-order.ts';
import { encodedElementBytes, MAX_KEY_BYTES } from '../../state/state-context.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { tempStateDir } from './helpers.ts';

// In-memory orderings (timer queues, merged map entries) must agree with
// LMDB's: check compareStateKeys against what LMDB actually returns.
describe('compareStateKeys', () => {
  const tmp = tempStateDir();
  const env = openStateEnv(tmp.dir, { noSync: true });
  let epoch = 0;
  afterAll(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  const key = fc.oneof(
    fc.double({ noNaN: true }),
    fc.integer(),
    fc.string({ unit: 'binary', maxLength: 8 }),
    fc.string({ unit: 'grapheme', maxLength: 4 }),
    fc.constantFrom('', '\u0000', '\u0004', '\u001b', '\u001c', '\uffff', '\ue000', '\ud83d\ude00', 'a\u0000'),
  );

  it('orders keys exactly as LMDB does, inside array keys', () => {
    let run = 0;
    fc.assert(
      fc.property(fc.uniqueArray(key, { maxLength: 30, selector: (k) => (typeof k === 'number' ? `n${checkKey(k)}` : `s${k}`) }), (keys) => {
        const prefix = `run${run++}`;
        const db = env.state;
        db.transactionSync(() => {
          for (const k of keys) db.putSync([prefix, checkKey(k), 'tail'], Buffer.from([1]));
        });
        const fromLmdb = [...db.getKeys({ start: [prefix], end: [prefix, RANGE_END] })].map((k) => (k as StateKey[])[1]);
        const sorted = keys.map((k) => checkKey(k)).sort(compareStateKeys);
        expect(fromLmdb).toEqual(sorted);
      }),
      { numRuns: 200 },
    );
  });

  it('accepts exactly the keys LMDB can store (size check is exact)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        const store = new PartitionStore(env, 'size-actor');
        const prefix = store.prefixBytes('op', 'v');
        const pad = MAX_KEY_BYTES - prefix - encodedElementBytes(s + 'x'.repeat(100)) + 100;
        fc.pre(pad > 0);
        const fits = s + 'x'.repeat(pad);
        expect(prefix + encodedElementBytes(fits)).toBe(MAX_KEY_BYTES);
        const vs = store.valueState<number>('op', 'v');
        vs.put(fits, 1);
        expect(() => vs.put(fits + 'x', 1)).toThrow(/state key too large/);
        store.commit({ epoch: ++epoch, positions: {}, outbox: [] }); // LMDB takes the largest legal key
        store.close();
      }),
      { numRuns: 50 },
    );
  });
});

import { describe, it, expect, afterAll } from 'vitest';
import fc from 'fast-check';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { compareStateKeys, type StateKey } from '../../state/key-order.ts';
import { tempStateDir } from './helpers.ts';

// Model-based test: random operations on a PartitionStore with a tiny cache,
// random commits, crashes (close without commit) and env reopens, against a
// plain Map model of what was written (`live`) and what was committed.

type Op =
  | { t: 'put'; k: StateKey; v: number }
  | { t: 'del'; k: StateKey }
  | { t: 'get'; k: StateKey }
  | { t: 'mput'; k: StateKey; f: StateKey; v: number }
  | { t: 'mdel'; k: StateKey; f: StateKey }
  | { t: 'mget'; k: StateKey; f: StateKey }
  | { t: 'mclear'; k: StateKey }
  | { t: 'mentries'; k: StateKey }
  | { t: 'treg'; ts: number; k: StateKey }
  | { t: 'tdel'; ts: number; k: StateKey }
  | { t: 'tpop'; upTo: number }
  | { t: 'commit' }
  | { t: 'crash' }
  | { t: 'reopenEnv' };

const key = fc.oneof(fc.integer({ min: -2, max: 3 }), fc.constantFrom('a', 'b', '', 'é', '\u{1F600}'));
const field = fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constantFrom('x', 'y'));
const ts = fc.integer({ min: 0, max: 5 });
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ t: fc.constant('put' as const), k: key, v: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('del' as const), k: key }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('get' as const), k: key }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('mput' as const), k: key, f: field, v: fc.integer() }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('mdel' as const), k: key, f: field }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('mget' as const), k: key, f: field }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('mclear' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('mentries' as const), k: key }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('treg' as const), ts, k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tdel' as const), ts, k: key }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('tpop' as const), upTo: ts }) },
  { weight: 3, arbitrary: fc.constant({ t: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'crash' as const }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reopenEnv' as const }) },
);

interface Model {
  values: Map<StateKey, number>;
  maps: Map<StateKey, Map<StateKey, number>>;
  timers: Map<string, { ts: number; k: StateKey }>;
}
const emptyModel = (): Model => ({ values: new Map(), maps: new Map(), timers: new Map() });
const cloneModel = (m: Model): Model => ({
  values: new Map(m.values),
  maps: new Map([...m.maps].map(([k, v]) => [k, new Map(v)])),
  timers: new Map(m.timers),
});
const tid = (ts: number, k: StateKey) => `${ts}|${typeof k}|${k}`;

describe('PartitionStore against a Map model', () => {
  const tmp = tempStateDir();
  let env: StateEnv = openStateEnv(tmp.dir, { noSync: true });
  afterAll(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });
  let run = 0;

  it('reads what was written, and after a crash what was committed', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 4 }), fc.array(op, { minLength: 10, maxLength: 150, size: 'max' }), async (cacheMaxEntries, ops) => {
        const actorId = `a${run++}`;
        const open = () => new PartitionStore(env, actorId, { cacheMaxEntries });
        let store = open();
        let live = emptyModel();
        let committed = emptyModel();
        let epoch = 0;
        for (const o of ops) {
          const vs = store.valueState<number>('op', 'v');
          const ms = store.mapState<number>('op', 'm');
          const timers = store.timers('op');
          switch (o.t) {
            case 'put':
              vs.put(o.k, o.v);
              live.values.set(o.k, o.v);
              break;
            case 'del':
              vs.delete(o.k);
              live.values.delete(o.k);
              break;
            case 'get':
              expect(vs.get(o.k)).toBe(live.values.get(o.k));
              break;
            case 'mput': {
              ms.put(o.k, o.f, o.v);
              const m = live.maps.get(o.k) ?? new Map<StateKey, number>();
              m.set(o.f, o.v);
              live.maps.set(o.k, m);
              break;
            }
            case 'mdel':
              ms.delete(o.k, o.f);
              live.maps.get(o.k)?.delete(o.f);
              break;
            case 'mget':
              expect(ms.get(o.k, o.f)).toBe(live.maps.get(o.k)?.get(o.f));
              break;
            case 'mclear':
              ms.clear(o.k);
              live.maps.delete(o.k);
              break;
            case 'mentries': {
              const expected = [...(live.maps.get(o.k) ?? new Map<StateKey, number>())].sort((a, b) => compareStateKeys(a[0], b[0]));
              expect(ms.entries(o.k)).toEqual(expected);
              expect(ms.keys(o.k)).toEqual(expected.map((e) => e[0]));
              break;
            }
            case 'treg':
              timers.register('event', o.ts, o.k);
              live.timers.set(tid(o.ts, o.k), { ts: o.ts, k: o.k });
              break;
            case 'tdel':
              expect(timers.delete('event', o.ts, o.k)).toBe(live.timers.delete(tid(o.ts, o.k)));
              break;
            case 'tpop': {
              const due = [...live.timers.values()]
                .filter((t) => t.ts <= o.upTo)
                .sort((a, b) => a.ts - b.ts || compareStateKeys(a.k, b.k));
              for (const t of due) live.timers.delete(tid(t.ts, t.k));
              expect(timers.popDue('event', o.upTo).map((t) => [t.ts, t.key])).toEqual(due.map((t) => [t.ts, t.k]));
              break;
            }
            case 'commit': {
              store.commit({ epoch: ++epoch, positions: { 'src:0': epoch }, outbox: [] });
              committed = cloneModel(live);
              let fields = 0;
              for (const m of committed.maps.values()) fields += m.size;
              expect(store.stats()).toMatchObject({ dirtyEntries: 0, stateKeys: committed.values.size + fields });
              break;
            }
            case 'crash':
              store.close();
              store = open();
              live = cloneModel(committed);
              break;
            case 'reopenEnv':
              store.close();
              await closeStateEnv(env);
              env = openStateEnv(tmp.dir, { noSync: true });
              store = open();
              live = cloneModel(committed);
              break;
          }
          expect(store.stats().cachedEntries).toBeLessThanOrEqual(Math.max(cacheMaxEntries, 0) + store.stats().dirtyEntries + 1);
        }
        // Everything live is readable at the end, key by key.
        const vs = store.valueState<number>('op', 'v');
        const ms = store.mapState<number>('op', 'm');
        for (const [k, v] of live.values) expect(vs.get(k)).toBe(v);
        for (const [k, m] of live.maps) expect(new Map(ms.entries(k))).toEqual(m);
        store.close();
      }),
      { numRuns: 200 },
    );
  });
});

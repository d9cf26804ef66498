/**
 * Keyed state benchmark: PartitionStore puts, gets and read-modify-writes
 * with a cache larger and smaller than the key set, and the cost of a
 * checkpoint commit with 1k and 10k dirty keys under the durability settings
 * that matter (fsync with and without overlappingSync, and noSync).
 *
 *   node --import tsx bench/state.ts
 *
 * Results: bench/results/<date>-state.json. State dirs live in the OS temp
 * dir and are deleted afterwards.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { open, type Key } from 'lmdb';
import { openStateEnv, closeStateEnv, type StateEnv } from '../state/env.ts';
import { PartitionStore } from '../state/partition-store.ts';
import { writeResults } from './state-harness.ts';

interface Row {
  orderId: string;
  customerId: number;
  amount: number;
  currency: string;
  status: string;
  items: number;
  ts: number;
}

const KEYS = 100_000;
const row = (i: number): Row => ({
  orderId: `ord-${i}`,
  customerId: i % 9973,
  amount: (i % 1000) + 0.95,
  currency: 'EUR',
  status: 'PAID',
  items: i % 7,
  ts: 1718000000000 + i,
});

// A fixed pseudo-random permutation so runs are comparable.
const order = new Int32Array(KEYS);
{
  let x = 12345;
  for (let i = 0; i < KEYS; i++) order[i] = i;
  for (let i = KEYS - 1; i > 0; i--) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const j = x % (i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
}

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'sluice-bench-state-'));
  dirs.push(d);
  return d;
}

/** An env like openStateEnv's, but with overlappingSync on: only for comparing the setting. */
function overlappingEnv(dir: string): StateEnv {
  const root = open<Buffer, Key>(dir, { mapSize: 64 * 1024 ** 3, maxDbs: 8, overlappingSync: true, encoding: 'binary' });
  const db = (name: string) => root.openDB<Buffer, Key>(name, { encoding: 'binary' });
  return { path: dir, options: {}, root, state: db('state'), timers: db('timers'), meta: db('meta'), outbox: db('outbox') };
}

let epoch = 0;
function fill(store: PartitionStore): void {
  const vs = store.valueState<Row>('op', 'rows');
  for (let i = 0; i < KEYS; i++) {
    vs.put(i, row(i));
    if (store.needsCheckpoint()) store.commit({ epoch: ++epoch, positions: { 'src:0': i }, outbox: [] });
  }
  store.commit({ epoch: ++epoch, positions: { 'src:0': KEYS }, outbox: [] });
}

const results: Record<string, unknown>[] = [];

/**
 * Runs `op(i)` KEYS times, checkpointing whenever the store asks (as the
 * engine does), and reports the time per op with and without the commits.
 */
function run(name: string, cache: number, store: PartitionStore, op: (i: number) => void): void {
  op(0); // touch code paths once
  let commitNs = 0;
  let commits = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < KEYS; i++) {
    op(i);
    if (store.needsCheckpoint()) {
      const c0 = process.hrtime.bigint();
      store.commit({ epoch: ++epoch, positions: { 'src:0': i }, outbox: [] });
      commitNs += Number(process.hrtime.bigint() - c0);
      commits++;
    }
  }
  const totalNs = Number(process.hrtime.bigint() - t0);
  const entry = {
    bench: name,
    keys: KEYS,
    cacheMaxEntries: cache,
    nsPerOp: +(totalNs / KEYS).toFixed(1),
    nsPerOpExcludingCommits: +((totalNs - commitNs) / KEYS).toFixed(1),
    commits,
    commitMsTotal: +(commitNs / 1e6).toFixed(1),
  };
  results.push(entry);
  console.log(
    `${name.padEnd(28)} cache ${String(cache).padStart(7)}  ${String(entry.nsPerOpExcludingCommits).padStart(7)} ns/op ` +
      `(${String(entry.nsPerOp).padStart(7)} with ${commits} commits)`,
  );
}

// --- Throughput through PartitionStore (durable env, as in production) ---
for (const cache of [200_000, 10_000]) {
  const env = openStateEnv(tempDir());
  const store = new PartitionStore(env, 'p0', { cacheMaxEntries: cache });
  fill(store);
  const vs = store.valueState<Row>('op', 'rows');
  const counters = store.valueState<number>('op', 'counts');
  let sink = 0;
  // Hot: the large cache already holds every row after fill(); cold: a tenth fits.
  run('get record (random keys)', cache, store, (i) => {
    if (vs.get(order[i]) !== undefined) sink++;
  });
  run('put record (random keys)', cache, store, (i) => vs.put(order[i], row(i)));
  run('counter get+put (new keys)', cache, store, (i) => {
    const k = order[i];
    counters.put(k, (counters.get(k) ?? 0) + 1);
  });
  run('counter get+put (existing)', cache, store, (i) => {
    const k = order[i];
    counters.put(k, (counters.get(k) ?? 0) + 1);
  });
  store.commit({ epoch: ++epoch, positions: {}, outbox: [] });
  if (sink < 0) console.log(sink);
  store.close();
  await closeStateEnv(env);
}

// --- Commit cost ---
// Settings are interleaved round by round so disk write-back left over from
// one does not bias the next (fsync latency on this VM varies a lot).
const settings: Array<{ name: string; env: StateEnv; store?: PartitionStore; ms: number[]; bytes: number }> = [
  { name: 'fsync, overlappingSync off (default)', env: openStateEnv(tempDir()), ms: [], bytes: 0 },
  { name: 'fsync, overlappingSync on', env: overlappingEnv(tempDir()), ms: [], bytes: 0 },
  { name: 'noSync (tests only)', env: openStateEnv(tempDir(), { noSync: true }), ms: [], bytes: 0 },
];
for (const s of settings) {
  s.store = new PartitionStore(s.env, 'p0', { cacheMaxEntries: 20_000 });
  fill(s.store);
}
await new Promise((r) => setTimeout(r, 3000)); // let write-back of the fills settle

const commitResults: Record<string, unknown>[] = [];
for (const dirty of [1, 1_000, 10_000]) {
  for (const blind of [false, true]) {
    if (dirty === 1 && blind) continue;
    const rounds = dirty >= 10_000 ? 9 : 25;
    for (const s of settings) s.ms = [];
    for (let r = 0; r < rounds; r++) {
      const base = (r * dirty * 7) % KEYS;
      for (const s of settings) {
        const store = s.store as PartitionStore;
        const vs = store.valueState<Row>('op', 'rows');
        for (let i = 0; i < dirty; i++) {
          const k = order[(base + i) % KEYS];
          // Known sizes come from a read; blind writes make commit look sizes up.
          if (!blind) vs.get(k);
          vs.put(k, row(k + r));
        }
        const res = store.commit({ epoch: ++epoch, positions: { 'src:0': epoch }, outbox: [] });
        s.ms.push(res.durationMs);
        s.bytes = res.bytes;
      }
    }
    for (const s of settings) {
      const ms = s.ms.sort((a, b) => a - b);
      const entry = {
        setting: s.name,
        dirtyKeys: dirty,
        writes: blind ? 'blind put' : 'get then put',
        minMs: +ms[0].toFixed(2),
        medianMs: +ms[Math.floor(rounds / 2)].toFixed(2),
        p90Ms: +ms[Math.floor(rounds * 0.9)].toFixed(2),
        bytes: s.bytes,
        rounds,
      };
      commitResults.push(entry);
      console.log(
        `commit ${String(dirty).padStart(6)} dirty (${entry.writes.padEnd(12)}) ${s.name.padEnd(38)} ` +
          `min ${entry.minMs} median ${entry.medianMs} p90 ${entry.p90Ms} ms`,
      );
    }
  }
}
for (const s of settings) {
  s.store?.close();
  if (s.name.includes('overlappingSync on')) await s.env.root.close();
  else await closeStateEnv(s.env);
}

const file = writeResults(
  'state',
  'node --import tsx bench/state.ts',
  { throughput: results, commit: commitResults },
  `${KEYS} keys of 7-field records in a ${KEYS}-key actor; throughput = one pass of ${KEYS} ops in random key order, checkpointing whenever needsCheckpoint() asked (maxDirtyEntries = cacheMaxEntries); commit = PartitionStore.commit durationMs (encode + write + fsync), settings interleaved per round`,
);
for (const d of dirs) rmSync(d, { recursive: true, force: true });
console.log(`wrote ${file}`);

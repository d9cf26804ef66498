/**
 * The state calls of the orders/payments interval join, without Kafka or
 * workers: per order two reads of `left`, one of `right`, the key listed
 * in its eviction bucket (engine/operators/due-buckets.ts) and the writes;
 * per payment the same on the other side; buckets
 * evicted as event time passes and a checkpoint every 5,000 records. For
 * profiling and comparing the state layer alone (`node --cpu-prof`).
 *
 *   node --import tsx bench/join-state.ts [orders=200000] [cache=100000]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { openStateEnv, closeStateEnv } from '../state/env.ts';
import { PartitionStore } from '../state/partition-store.ts';
import { DueBuckets } from '../engine/operators/due-buckets.ts';
import type { OperatorContext } from '../engine/contracts/operator.ts';

const orders = Number(process.argv[2] ?? 200_000);
const cache = Number(process.argv[3] ?? 100_000);
const dir = mkdtempSync(join(tmpdir(), 'join-state-'));
const env = openStateEnv(dir, { noSync: true });
const store = new PartitionStore(env, 'p0', { cacheMaxEntries: cache });
const left = store.valueState<Array<[number, number, unknown]>>('join', 'left');
const right = store.valueState<Array<[number, number, unknown]>>('join', 'right');
// The join's context, as far as its eviction buckets use it.
const ctx = { valueState: (n: string) => store.valueState('join', n), mapState: (n: string) => store.mapState('join', n) } as unknown as OperatorContext<unknown>;
const bucketL = new DueBuckets('L');
const bucketR = new DueBuckets('R');
bucketL.start(ctx);
bucketR.start(ctx);
const ids: string[] = [];
for (let i = 0; i < orders; i++) ids.push(JSON.parse(`{"id":"${randomUUID()}"}`).id);
const window = 22_500; // live orders of one actor in the job's 15 minutes
let epoch = 0;
let n = 0;
const t0 = process.hrtime.bigint();
const c0 = process.cpuUsage();
for (let i = 0; i < orders; i++) {
  const k = ids[i];
  const order = { order_id: k, customer_id: i % 1000, amount: i, currency: 'EUR', order_date: '2024-01-01T00:00:00Z' };
  left.get(k);
  const buffered = left.get(k);
  const rights = right.get(k);
  left.put(k, buffered ? [...buffered, [i, rights ? 1 : 0, order]] : [[i, 0, order]]);
  const endL = Math.ceil((i + window) / 100);
  bucketL.add(endL, k);
  if (i >= 10 && i % 10 !== 9) {
    const pk = ids[i - 10];
    const lefts = left.get(pk);
    if (lefts) {
      lefts[0][1] = 1;
      left.put(pk, lefts);
    }
    right.get(pk);
    right.put(pk, [[i, 1, { order_id: pk, amount: i, payment_date: '2024-01-01T00:00:01Z' }]]);
    const endR = Math.ceil((i + 100) / 100);
    bucketR.add(endR, pk);
    n++;
  }
  n++;
  if (i % 100 === 99) {
    const due = Math.ceil(i / 100);
    for (const key of bucketL.take(due)) if (left.get(key as string) !== undefined) left.delete(key as string);
    for (const key of bucketR.take(due)) if (right.get(key as string) !== undefined) right.delete(key as string);
  }
  if (n >= (epoch + 1) * 5000) store.commit({ epoch: ++epoch, positions: {}, outbox: [] });
}
const cpu = process.cpuUsage(c0);
const s = Number(process.hrtime.bigint() - t0) / 1e9;
const cpuS = (cpu.user + cpu.system) / 1e6;
console.log(JSON.stringify({ records: n, seconds: +s.toFixed(3), cpuS: +cpuS.toFixed(3), nsPerRecord: Math.round((cpuS * 1e9) / n), stats: store.stats() }));
store.close();
await closeStateEnv(env);
rmSync(dir, { recursive: true, force: true });

/**
 * The orders-payments job's pipeline on a real PartitionActor and LMDB store
 * (no Kafka): fed the producer's plan, its rows and dead letters equal the
 * plain computation in jobs/orders-payments/expected.ts. Also: the input
 * validation the sources run, on the producer's invalid records.
 */
import { describe, expect, it } from 'vitest';
import { PipelineBuilder } from '../../engine/contracts/pipeline.ts';
import type { SinkDriver } from '../../engine/contracts/sinks.ts';
import job, { type OrdersPaymentsSettings } from '../../jobs/orders-payments.ts';
import { expectedOutput } from '../../jobs/orders-payments/expected.ts';
import { factId, type Fact } from '../../jobs/orders-payments/facts.ts';
import { planRecords, type PlannedRecord, type PlanOptions } from '../../jobs/orders-payments/stream-plan.ts';
import { orderTime, paymentTime, validateOrder, validatePayment } from '../../jobs/orders-payments/validate.ts';
import { PartitionActor } from '../../engine/runtime/partition-actor.ts';
import { openActorStore, openStoreEnv } from '../../engine/runtime/stores.ts';
import { DEAD_LETTER_SINK } from '../../engine/runtime/topology.ts';
import { MemorySink } from '../engine/operators/join-harness.ts';
import { tempDir } from '../helpers/temp.ts';
import type { Order, Payment } from '../../jobs/orders-payments/records.ts';

const settings: OrdersPaymentsSettings = { ...job.settings!, sink: 'discard' };

async function runJob(records: PlannedRecord[], batch: number) {
  process.env.SLUICE_STATE_NOSYNC = '1';
  const env = openStoreEnv(tempDir());
  const store = openActorStore(env, 'p0', { cacheMaxEntries: 500 });
  const b = new PipelineBuilder();
  job.pipeline(b, settings);
  const facts = new MemorySink();
  const dlq = new MemorySink();
  const actor = new PartitionActor({
    job: 'orders-payments',
    actorId: 'p0',
    partition: 0,
    inputs: ['orders', 'payments'].map((sourceId) => ({ sourceId, watermark: { maxOutOfOrdernessMs: settings.outOfOrdernessMs, idleTimeoutMs: 0 } })),
    nodes: b.nodes,
    store: store.store,
    sinks: new Map<string, SinkDriver>([
      ['facts', facts],
      [DEAD_LETTER_SINK, dlq],
    ]),
    checkpointIntervalMs: 1e12,
  });
  actor.open();
  const next = [0, 0];
  let pending: { input: number; values: unknown[] } | undefined;
  let sinceCheckpoint = 0;
  const flush = async (): Promise<void> => {
    if (!pending) return;
    const { input, values } = pending;
    const times = values.map((v) => (input === 0 ? orderTime(v as Order) : paymentTime(v as Payment)));
    const offsets = values.map((_, i) => next[input] + i);
    next[input] += values.length;
    actor.ingest(input, values, times, offsets);
    pending = undefined;
    if (++sinceCheckpoint % 7 === 0) await actor.checkpoint();
  };
  for (const r of records) {
    if (r.kind === 'bad') continue;
    const input = r.topic === 'orders' ? 0 : 1;
    if (pending && (pending.input !== input || pending.values.length >= batch)) await flush();
    pending ??= { input, values: [] };
    pending.values.push(r.value);
  }
  await flush();
  actor.finishInput(0);
  actor.finishInput(1);
  await actor.close();
  const stateKeys = store.store.stats().stateKeys;
  store.close();
  await env.close();
  return { facts, dlq, counts: actor.counters.operatorCounts, stateKeys };
}

describe('orders-payments job pipeline', () => {
  for (const [name, plan, batch] of [
    ['defaults', { orders: 3000, seed: 7 }, 50],
    ['many duplicates, payments first, unpaid, orphans', { orders: 2000, seed: 11, duplicateRate: 0.3, paymentsFirstRate: 0.5, unpaidRate: 0.2, orphanPaymentRate: 0.2, splitPaymentRate: 0.2, latePaymentRate: 0.1 }, 7],
  ] as Array<[string, Partial<PlanOptions>, number]>) {
    it(`rows and dead letters equal the expected output (${name})`, async () => {
      const records = [...planRecords({ ...plan, timeoutMs: settings.timeoutMinutes * 60_000, skewMs: settings.paymentSkewMinutes * 60_000 })];
      const want = expectedOutput(records, { timeoutMs: settings.timeoutMinutes * 60_000, skewMs: settings.paymentSkewMinutes * 60_000 });
      const got = await runJob(records, batch);
      const rows = new Map<string, Fact>();
      for (const v of got.facts.byId.values()) {
        const f = v as Fact;
        expect(rows.has(factId(f))).toBe(false); // each _id once
        rows.set(factId(f), f);
      }
      expect(rows.size).toBe(want.facts.size);
      expect(Object.fromEntries(rows)).toEqual(Object.fromEntries(want.facts));
      const dead = [...got.dlq.byId.values()] as Array<{ reason: string; value: Payment }>;
      expect(dead.every((d) => d.reason === 'unknown_order')).toBe(true);
      expect(dead.map((d) => d.value.payment_id).sort()).toEqual(want.unknownPayments.map((p) => p.payment_id).sort());
      expect(got.counts.get('join:duplicate_orders') ?? 0).toBe(want.duplicateOrders);
      expect(got.counts.get('join:late_orders') ?? 0).toBe(0);
      expect(got.counts.get('join:late_payments') ?? 0).toBe(0);
      // Every key timed out at the end of input: no state left.
      expect(got.stateKeys).toBe(0);
      // The plan exercised what it is meant to.
      expect(want.duplicateOrders).toBeGreaterThan(0);
      expect(want.unknownPayments.length).toBeGreaterThan(0);
      expect([...want.facts.values()].some((f) => f.status === 'unpaid')).toBe(true);
    });
  }

  it('the producer plan is deterministic per seed and differs across seeds', () => {
    const a = JSON.stringify([...planRecords({ orders: 300, seed: 5 })]);
    expect(JSON.stringify([...planRecords({ orders: 300, seed: 5 })])).toBe(a);
    expect(JSON.stringify([...planRecords({ orders: 300, seed: 6 })])).not.toBe(a);
  });

  it('validation names what is wrong with the producer invalid records', () => {
    const bad = [...planRecords({ orders: 600, seed: 3, badRecordRate: 0.1 })].filter((r) => r.kind === 'bad');
    expect(bad.length).toBeGreaterThan(20);
    for (const r of bad) {
      if (r.kind !== 'bad') continue;
      if (r.reason === 'decode_error') {
        expect(() => JSON.parse(r.value)).toThrow();
        continue;
      }
      const v: unknown = JSON.parse(r.value);
      const reason = r.topic === 'orders' ? validateOrder(v) : validatePayment(v);
      expect(reason).toContain(r.reason);
    }
    expect(validateOrder({ heartbeat: true, event_time: '2024-01-01T00:00:00Z' })).toBeUndefined();
    expect(validateOrder({ order_id: 5, amount: 1 })).toBe('order_id must be a string, got number');
    expect(validatePayment({ order_id: 'o', amount: 1, payment_id: 'p', payment_date: 'yesterday' })).toBe('payment_date must be an ISO date-time');
  });
});

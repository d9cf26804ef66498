/**
 * The orders-payments job, tested as a user tests their own job: through
 * `sluice/testing` (the in-process driver: real partition actors, LMDB state
 * and checkpoints, no Kafka, no MongoDB). Fed the producer's plan, its rows
 * and dead letters equal the plain computation in
 * jobs/orders-payments/expected.ts: with the producer's invalid records piped
 * as raw bytes through the sources' codec and validation, across partitions,
 * through a crash at every checkpoint phase, and over random arrival orders
 * within the watermark bound, duplicated input and crashes (the model check).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CRASH_POINTS, TestDriver, type Arrival, type CrashPoint } from '../../api/testing.ts';
import { checkModel, scheduleArbitrary, type InputRecord } from '../../api/testing-fast-check.ts';
import job, { type OrdersPaymentsSettings } from '../../jobs/orders-payments.ts';
import { expectedOutput } from '../../jobs/orders-payments/expected.ts';
import { factId, type Fact } from '../../jobs/orders-payments/facts.ts';
import type { Order, Payment } from '../../jobs/orders-payments/records.ts';
import { planRecords, type PlannedRecord, type PlanOptions } from '../../jobs/orders-payments/stream-plan.ts';
import { orderTime, paymentTime, validateOrder, validatePayment } from '../../jobs/orders-payments/validate.ts';

const settings: Partial<OrdersPaymentsSettings> = { sink: 'discard' };
const defaults = job.settings!;
const bounds = { timeoutMs: defaults.timeoutMinutes * 60_000, skewMs: defaults.paymentSkewMinutes * 60_000 };

function plan(o: Partial<PlanOptions>): PlannedRecord[] {
  return [...planRecords({ ...o, timeoutMs: bounds.timeoutMs, skewMs: bounds.skewMs })];
}

/**
 * Pipes the plan in batches of up to `batch` consecutive records of one topic
 * (as a consumer's fetches), invalid records as raw bytes, and checkpoints
 * every 7 batches; with `crashAt`, the 3rd checkpoint crashes there and the
 * job restarts from its committed state. Then the inputs end.
 */
async function runJob(records: PlannedRecord[], o: { batch: number; partitions: number; crashAt?: CrashPoint }): Promise<TestDriver<OrdersPaymentsSettings>> {
  const t = new TestDriver(job, { settings, partitions: o.partitions });
  let pending: { topic: string; recs: Array<{ value: unknown; key?: string }> } | undefined;
  let batches = 0;
  const flush = async (): Promise<void> => {
    if (!pending) return;
    t.pipeRecords(pending.topic, pending.recs);
    pending = undefined;
    if (++batches % 7 === 0) await t.checkpoint({ crashAt: batches === 21 ? o.crashAt : undefined });
  };
  for (const r of records) {
    if (r.kind === 'bad') {
      await flush();
      t.pipeRaw(r.topic, r.value, { key: r.key ?? undefined });
      continue;
    }
    if (pending && (pending.topic !== r.topic || pending.recs.length >= o.batch)) await flush();
    pending ??= { topic: r.topic, recs: [] };
    pending.recs.push({ value: r.value, key: r.key });
  }
  await flush();
  await t.finish();
  return t;
}

function factsById(t: TestDriver<OrdersPaymentsSettings>): Map<string, Fact> {
  const rows = new Map<string, Fact>();
  for (const f of t.output<Fact>('facts')) {
    expect(rows.has(factId(f)), factId(f)).toBe(false); // each _id once
    rows.set(factId(f), f);
  }
  return rows;
}

describe('orders-payments job (sluice/testing)', () => {
  for (const [name, o, batch, partitions] of [
    ['defaults', { orders: 3000, seed: 7 }, 50, 1],
    ['many duplicates, payments first, unpaid, orphans, 3 partitions', { orders: 2000, seed: 11, duplicateRate: 0.3, paymentsFirstRate: 0.5, unpaidRate: 0.2, orphanPaymentRate: 0.2, splitPaymentRate: 0.2, latePaymentRate: 0.1 }, 7, 3],
  ] as Array<[string, Partial<PlanOptions>, number, number]>) {
    it(`rows and dead letters equal the expected output (${name})`, async () => {
      const records = plan(o);
      const want = expectedOutput(records, bounds);
      const t = await runJob(records, { batch, partitions });
      try {
        expect(Object.fromEntries(factsById(t))).toEqual(Object.fromEntries(want.facts));
        const dead = t.deadLetters<Payment>();
        expect(dead.every((d) => d.reason === 'unknown_order')).toBe(true);
        expect(dead.map((d) => d.value.payment_id).sort()).toEqual(want.unknownPayments.map((p) => p.payment_id).sort());
        expect(t.counters().get('join:duplicate_orders') ?? 0).toBe(want.duplicateOrders);
        expect(t.counters().get('join:late_orders') ?? 0).toBe(0);
        expect(t.counters().get('join:late_payments') ?? 0).toBe(0);
        // Every key timed out at the end of input: no state left.
        expect(t.stateKeys()).toBe(0);
        // The plan exercised what it is meant to.
        expect(want.duplicateOrders).toBeGreaterThan(0);
        expect(want.unknownPayments.length).toBeGreaterThan(0);
        expect([...want.facts.values()].some((f) => f.status === 'unpaid')).toBe(true);
      } finally {
        await t.close();
      }
    });
  }

  it('invalid input reaches the dead letters through the sources\' codec and validation, with the reason', async () => {
    const records = plan({ orders: 600, seed: 3, badRecordRate: 0.1 });
    const bad = records.filter((r) => r.kind === 'bad');
    expect(bad.length).toBeGreaterThan(20);
    const t = await runJob(records, { batch: 20, partitions: 2 });
    try {
      const dead = t.deadLetters().filter((d) => d.reason !== 'unknown_order');
      expect(dead.map((d) => d.reason).sort()).toEqual(bad.map((r) => (r.reason === 'decode_error' ? 'decode_error' : 'validation_failed')).sort());
      for (const r of bad) {
        if (r.kind !== 'bad' || r.reason === 'decode_error') continue;
        expect(dead.some((d) => d.source === r.topic && d.reason === 'validation_failed' && d.error!.message.includes(r.reason)), r.reason).toBe(true);
      }
    } finally {
      await t.close();
    }
    expect(validateOrder({ heartbeat: true, event_time: '2024-01-01T00:00:00Z' })).toBeUndefined();
    expect(validateOrder({ order_id: 5, amount: 1 })).toContain('/order_id must be string');
    expect(validatePayment({ order_id: 'o', amount: 1, payment_id: 'p', payment_date: 'yesterday', created_at: '2024-01-01T00:00:00Z' })).toBe('/payment_date must match format "date-time"');
  });

  for (const crashAt of CRASH_POINTS) {
    it(`rows and dead letters stay exactly-once through a crash ${crashAt}`, async () => {
      const records = plan({ orders: 1500, seed: 5, duplicateRate: 0.1, unpaidRate: 0.1, orphanPaymentRate: 0.1 });
      const want = expectedOutput(records, bounds);
      const t = await runJob(records, { batch: 10, partitions: 2, crashAt });
      try {
        expect(t.incarnation).toBe(2);
        expect(Object.fromEntries(factsById(t))).toEqual(Object.fromEntries(want.facts));
        expect(t.deadLetters<Payment>().map((d) => d.value.payment_id).sort()).toEqual(want.unknownPayments.map((p) => p.payment_id).sort());
        expect(t.sink('facts').conflicts).toEqual([]);
      } finally {
        await t.close();
      }
    });
  }

  it('the producer plan is deterministic per seed and differs across seeds', () => {
    const a = JSON.stringify(plan({ orders: 300, seed: 5 }));
    expect(JSON.stringify(plan({ orders: 300, seed: 5 }))).toBe(a);
    expect(JSON.stringify(plan({ orders: 300, seed: 6 }))).not.toBe(a);
  });

  it('matches the plain computation over any arrival order within the watermark bound, with duplicates, redeliveries and crashes', async () => {
    const timeOf = (r: InputRecord<Order | Payment>): number => (r.source === 'orders' ? orderTime(r.value as Order) : paymentTime(r.value as Payment));
    const plans = fc
      .record({ seed: fc.nat(), orders: fc.integer({ min: 1, max: 25 }) })
      .map(({ seed, orders }) =>
        plan({ orders, seed, duplicateRate: 0.2, paymentsFirstRate: 0.4, unpaidRate: 0.2, orphanPaymentRate: 0.2, splitPaymentRate: 0.2, latePaymentRate: 0.1, eventSpacingMs: 20_000 })
          .filter((r) => r.kind !== 'bad')
          .map((r): InputRecord<Order | Payment> => ({ source: r.topic, value: r.value as Order | Payment, key: r.key ?? undefined })),
      );
    await checkModel({
      open: () => new TestDriver(job, { settings, partitions: 2 }),
      schedules: scheduleArbitrary(plans, { timeOf, boundMs: defaults.outOfOrdernessMs, duplicates: 0.1, crashes: 2 }),
      model: (arrivals: Array<Arrival<Order | Payment>>) => {
        const want = expectedOutput(
          arrivals.map((a): PlannedRecord => (a.source === 'orders' ? { topic: 'orders', kind: 'order', key: a.key!, value: a.value as Order } : { topic: 'payments', kind: 'payment', key: a.key!, value: a.value as Payment })),
          bounds,
        );
        return { sinks: { facts: [...want.facts.values()] }, deadLetters: want.unknownPayments.map((value) => ({ reason: 'unknown_order', value })) };
      },
      // A duplicated payment gives its row twice, under one _id: the MongoDB sink keeps one (insert-once by _id).
      view: (_sink, rows) => [...new Map((rows as Fact[]).map((f) => [factId(f), f])).values()],
      params: { numRuns: 25 },
    });
  });
});

/**
 * The README's first command: the orders/payments pipeline of seed 001 on the
 * embedded runtime. Generated orders and payments (seed 001 shapes) are keyed
 * by order_id; a keyed process function keeps the first order per id, pairs
 * payments with it whichever arrives first, and uses event-time timers to
 * emit orders never paid as `unpaid` and to dead-letter payments whose order
 * never came. Output goes to local JSON-lines files; no servers needed.
 *
 * (The reusable interval-join operator and the Kafka/MongoDB job come with
 * their own issue; this job shows the engine's keyed state and timers.)
 */
import { defineJob, generatorSource, fileSink, KeyedProcessFunction, type Key, type OperatorContext, type Timer } from '../api/index.ts';
import { paidFact, unpaidFact, type Fact } from './orders-payments/facts.ts';
import { makeOrder, makePayment, type GenOptions, type Order, type Payment } from './orders-payments/records.ts';

type In = { kind: 'order'; order: Order } | { kind: 'payment'; payment: Payment };

class OrderPaymentMatcher extends KeyedProcessFunction<In, Fact> {
  constructor(private readonly timeoutMs: number) {
    super();
  }

  processElement(v: In, key: Key, time: number, ctx: OperatorContext<Fact>): void {
    const orders = ctx.valueState<Order>('order');
    const early = ctx.mapState<Payment>('early-payments');
    if (v.kind === 'order') {
      if (orders.get(key) !== undefined) {
        ctx.count('duplicate_orders');
        return;
      }
      orders.put(key, v.order);
      ctx.timers.registerEventTime(key, time + this.timeoutMs, 'order-expiry');
      for (const [, p] of early.entries(key)) ctx.emit(join(v.order, p), time, key);
      if (early.keys(key).length) {
        early.clear(key);
        ctx.valueState<boolean>('paid').put(key, true);
      }
      return;
    }
    const order = orders.get(key);
    if (order) {
      ctx.valueState<boolean>('paid').put(key, true);
      ctx.emit(join(order, v.payment), time, key);
    } else {
      early.put(key, v.payment.payment_id, v.payment);
      ctx.timers.registerEventTime(key, time + this.timeoutMs, 'payment-expiry');
    }
  }

  override onTimer(t: Timer, ctx: OperatorContext<Fact>): void {
    const orders = ctx.valueState<Order>('order');
    const paid = ctx.valueState<boolean>('paid');
    if (t.tag === 'order-expiry') {
      const order = orders.get(t.key);
      if (order && !paid.get(t.key)) ctx.emit(unpaidFact(order, Date.parse(order.order_date)), t.ts, t.key);
      orders.delete(t.key);
      paid.delete(t.key);
    } else {
      const early = ctx.mapState<Payment>('early-payments');
      for (const [, p] of early.entries(t.key)) ctx.deadLetter(p, 'unknown_order');
      early.clear(t.key);
    }
  }
}

/** The job's rows are the orders-payments job's facts (jobs/orders-payments/facts.ts), event times from the records' dates. */
function join(o: Order, p: Payment): Fact {
  return paidFact(o, p, Date.parse(o.order_date), Date.parse(p.payment_date));
}

const defaults = {
  partitions: 4,
  ordersPerPartition: 50_000,
  customers: 1_000,
  timeoutMinutes: 15,
  ratePerSecond: 0,
};

export default defineJob({
  name: 'orders-payments-demo',
  description: 'Generated orders ⋈ payments on order_id, keyed state + event-time timers, into local files',
  settings: defaults,
  sources: (s) => {
    const gen: GenOptions = { partitions: s.partitions, customers: s.customers, orderSpacingMs: 10, maxPaymentDelayMs: 60_000 };
    const rate = s.ratePerSecond > 0 ? s.ratePerSecond / s.partitions : undefined;
    // Both sides from the same order numbers, payments up to a minute after their order: 60 s out of order at most.
    const generated = <T>(generate: (p: number, o: number) => T, time: (v: T) => number) =>
      generatorSource<T>({
        partitions: s.partitions,
        count: s.ordersPerPartition,
        ratePerSec: rate,
        generate,
        timestamp: time,
        watermark: { maxOutOfOrdernessMs: 60_000 },
      });
    return {
      orders: generated((p, o) => makeOrder(gen, p, o), (o) => Date.parse(o.order_date)),
      payments: generated((p, o) => makePayment(gen, p, o), (p) => Date.parse(p.payment_date)),
    };
  },
  sinks: { joined: fileSink({ dir: 'joined' }) },
  pipeline(b, s) {
    const orders = b.source<Order>('orders').map((order): In => ({ kind: 'order', order }), 'tag-orders');
    const payments = b.source<Payment>('payments').map((payment): In => ({ kind: 'payment', payment }), 'tag-payments');
    orders
      .union(payments)
      .keyBy((v) => (v.kind === 'order' ? v.order.order_id : v.payment.order_id), 'by-order-id')
      .process(new OrderPaymentMatcher(s.timeoutMinutes * 60_000), 'match')
      .to('joined');
  },
});

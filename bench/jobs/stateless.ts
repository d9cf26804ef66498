/**
 * A stateless pipeline for the engine benchmark: generated order-shaped
 * records, a map, a filter and a flatMap, into a discard sink.
 */
import { defineJob, discardSink, generatorSource } from '../../api/index.ts';
import { makeOrder, type GenOptions, type Order } from '../../jobs/orders-payments/records.ts';

export default defineJob({
  name: 'bench-stateless',
  settings: { partitions: 4, perPartition: 250_000 },
  sources: (s) => {
    const gen: GenOptions = { partitions: s.partitions, customers: 1000, orderSpacingMs: 10, maxPaymentDelayMs: 60_000 };
    return { orders: generatorSource<Order>({ partitions: s.partitions, count: s.perPartition, generate: (p, o) => makeOrder(gen, p, o) }) };
  },
  sinks: { out: discardSink() },
  pipeline(b) {
    b.source<Order>('orders')
      .map((o) => ({ id: o.order_id, customer: o.customer_id, cents: o.amount * 100 }))
      .filter((o) => o.cents >= 2000)
      .flatMap((o) => (o.cents > 90_000 ? [o, o] : [o]))
      .to('out');
  },
});

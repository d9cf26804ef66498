/**
 * The state-at-scale benchmark job: holds `keys` unpaid orders as live join
 * state, the way an orders ⋈ payments join holds orders waiting for their
 * payment: per order_id, the order in value state and an event-time expiry
 * timer 15 minutes later.
 *
 * Sources, co-partitioned (P partitions):
 *   orders  `keys / P` orders per partition (seed 001 shapes), event times
 *           spread over `spanMinutes` (< 15), so no expiry fires
 *   ticks   unbounded, `ticksPerSecond` per partition, event time pinned at
 *           the start: they hold the watermark back (nothing expires), keep
 *           the job running after the load, and show when a restarted
 *           process is processing again
 * The first tick an actor processes is reported on stdout as a JSON line
 * {"firstTick": <epoch ms>, "partition": p}.
 *
 * Setting `timers`:
 *   per-key   one event-time timer per order (what a join operator does)
 *   bucketed  one timer per second of expiry time, and the orders expiring
 *             in that second as fields of a map-state key (the bucket): the
 *             same expiry, with O(seconds) timers instead of O(orders)
 *   join      the library's IntervalJoin as jobs/orders-payments.ts
 *             configures it (full outer, 15-minute bound, first order wins),
 *             orders on the left; the ticks hold the watermark but are
 *             filtered out before the join, so no payment ever arrives
 */
import { defineJob, discardSink, generatorSource, Operator, type Batch, type OperatorContext } from '../../api/index.ts';
import { IntervalJoin } from '../../engine/operators/interval-join.ts';
import { EPOCH_MS, makeOrder, type GenOptions, type Order } from '../../jobs/orders-payments/records.ts';

const EXPIRY_MS = 15 * 60_000;

interface Tick {
  tick: number;
}

class HoldUnpaid extends Operator<Order | Tick, never> {
  private reported = false;

  constructor(private readonly bucketed: boolean) {
    super();
  }

  process(batch: Batch<Order | Tick>, ctx: OperatorContext<never>): void {
    if (batch.input === 1) {
      if (!this.reported) {
        this.reported = true;
        process.stdout.write(JSON.stringify({ firstTick: Date.now(), partition: ctx.partition }) + '\n');
      }
      ctx.count('ticks', batch.values.length);
      return;
    }
    const orders = ctx.valueState<Order>('order');
    const expiring = ctx.mapState<1>('expiring');
    const { values, times } = batch;
    for (let i = 0; i < values.length; i++) {
      const o = values[i] as Order;
      orders.put(o.order_id, o);
      const at = times[i] + EXPIRY_MS;
      if (!this.bucketed) ctx.timers.registerEventTime(o.order_id, at, 'order-expiry');
      else {
        const bucket = at - (at % 1000);
        expiring.put(bucket, o.order_id, 1);
        ctx.timers.registerEventTime(bucket, bucket + 999, 'bucket-expiry');
      }
    }
  }
}

export default defineJob({
  name: 'bench-state-scale',
  description: 'Holds N unpaid orders (value state + expiry timer each) and keeps running',
  settings: { partitions: 4, keys: 10_000_000, spanMinutes: 10, ticksPerSecond: 20, timers: 'per-key' },
  sources: (s) => {
    const gen: GenOptions = { partitions: s.partitions, customers: 100_000, orderSpacingMs: 0, maxPaymentDelayMs: 0 };
    const spacing = (s.spanMinutes * 60_000) / s.keys;
    return {
      orders: generatorSource<Order>({
        partitions: s.partitions,
        count: Math.floor(s.keys / s.partitions),
        generate: (p, k) => makeOrder(gen, p, k),
        timestamp: (o) => EPOCH_MS + Math.floor(Number(o.order_id.slice(6)) * spacing),
      }),
      ticks: generatorSource<Tick>({
        partitions: s.partitions,
        ratePerSec: s.ticksPerSecond,
        generate: (_p, k) => ({ tick: k }),
        timestamp: () => EPOCH_MS,
      }),
    };
  },
  sinks: { out: discardSink() },
  pipeline(b, s) {
    if (s.timers !== 'join') {
      b.connect(b.source<Order>('orders'), b.source<Tick>('ticks')).process(new HoldUnpaid(s.timers === 'bucketed'), 'hold-unpaid').to('out');
      return;
    }
    let reported = false;
    const orders = b.source<Order>('orders').keyBy((o) => o.order_id, 'key-orders');
    const ticks = b
      .source<Tick>('ticks')
      .filter((t) => {
        if (!reported) {
          reported = true;
          process.stdout.write(JSON.stringify({ firstTick: Date.now(), partition: -1, tick: t.tick }) + '\n');
        }
        return false;
      }, 'first-tick')
      .keyBy(() => 'tick', 'key-ticks');
    b.connect(orders, ticks)
      .process(
        new IntervalJoin<Order, Tick, unknown>({
          mode: 'full',
          lowerBoundMs: -60_000,
          upperBoundMs: EXPIRY_MS,
          uniqueLeft: true,
          joined: (o) => o,
          leftOnly: (o) => o,
          rightOnly: (t) => t,
        }),
        'join',
      )
      .to('out');
  },
});

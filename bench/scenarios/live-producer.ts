/**
 * A separate process producing live orders and payments at a fixed rate, for
 * the latency phase: `node --import tsx bench/scenarios/live-producer.ts
 * <brokers> <ordersTopic> <paymentsTopic> <recordsPerSecond> <seconds>`.
 *
 * Every 10 ms it produces its share of the rate: new orders, and the
 * payments of the orders of the previous tick (so a payment finds its order
 * and triggers the join). Event times (order_date, payment_date and the
 * Kafka timestamp) are the wall clock at production. Prints one JSON line:
 * {"records":N,"seconds":S,"behind":B}, B = ticks that started late.
 */
import { createProducer } from '../../engine/kafka/producer.ts';
import type { ProducerRecord } from '../../engine/kafka/types.ts';
import { makeOrder, makePayment } from '../../jobs/orders-payments/records.ts';
import { GEN } from './kafka-data.ts';

const [brokers, ordersTopic, paymentsTopic, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const TICK_MS = 10;

const producer = createProducer({ brokers: brokers.split(','), clientId: 'sluice-bench-live' });
await producer.connect();
const start = Date.now();
const inflight = new Set<Promise<void>>();
let n = 0;
let produced = 0;
let behind = 0;
let prev: number[] = [];
let owed = 0;
for (let tick = 0; Date.now() - start < seconds * 1000; tick++) {
  const due = start + tick * TICK_MS;
  const wait = due - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  else if (wait < -TICK_MS) behind++;
  owed += (rate * TICK_MS) / 1000;
  const now = Date.now();
  const iso = new Date(now).toISOString();
  const batch: ProducerRecord[] = [];
  for (const m of prev) {
    const p = { ...makePayment(GEN, 0, m), payment_date: iso, created_at: iso };
    batch.push({ topic: paymentsTopic, key: p.order_id, value: JSON.stringify(p), timestamp: now });
  }
  const fresh: number[] = [];
  while (batch.length + fresh.length < owed) {
    const o = { ...makeOrder(GEN, 0, n), order_date: iso, created_at: iso };
    batch.push({ topic: ordersTopic, key: o.order_id, value: JSON.stringify(o), timestamp: now });
    fresh.push(n++);
  }
  owed -= batch.length;
  prev = fresh;
  produced += batch.length;
  const send = producer.send(batch);
  inflight.add(send);
  void send.finally(() => inflight.delete(send));
}
await Promise.all(inflight);
await producer.disconnect();
process.stdout.write(JSON.stringify({ records: produced, seconds: (Date.now() - start) / 1000, behind }) + '\n');

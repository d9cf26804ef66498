/**
 * A separate process producing live orders and payments at a fixed rate, for
 * the latency phase: `node --import tsx bench/scenarios/live-producer.ts
 * <brokers> <ordersTopic> <paymentsTopic> <recordsPerSecond> <seconds>`.
 *
 * Every 10 ms it produces its share of the rate: new orders, and the
 * payments of the orders of the previous tick (so a payment finds its order
 * and triggers the join). Event times (order_date, payment_date and the
 * Kafka timestamp) are the wall clock when the records are handed to the
 * client, so a latency measured from them starts at the send.
 *
 * It never queues: @platformatic/kafka (not the engine's producer, which
 * keeps one request in flight) with up to 16 requests in flight; a tick that
 * finds 16 still pending is skipped and counted, so an overloaded producer
 * shows up as a lower achieved rate, never as queueing delay inside the
 * measurement. The client is @platformatic/kafka rather than kafkajs because
 * it produces about 2x as many records per CPU-second (bench notes,
 * 35-producer.md): on 2 cores the producer shares the CPU with the broker and
 * the job, and at half the job's maximum rate kafkajs could not offer the load.
 * Prints one JSON line: {"records":N,"seconds":S,"skippedTicks":K,"lateTicks":L}.
 */
import { compatibilityPartitioner, Producer, stringSerializers, type MessageToProduce } from '@platformatic/kafka';
import { makeOrder, makePayment } from '../../jobs/orders-payments/records.ts';
import { GEN } from './kafka-data.ts';

const [brokers, ordersTopic, paymentsTopic, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const TICK_MS = 10;
const MAX_INFLIGHT = 16;

type Message = MessageToProduce<string, string, string, string>;
// The Java client's murmur2 partitioner, as the engine's producer and kafkajs use: keys land where the job expects them.
const producer = new Producer({
  clientId: 'sluice-bench-live',
  bootstrapBrokers: brokers.split(','),
  serializers: stringSerializers,
  partitioner: compatibilityPartitioner,
  autocreateTopics: false,
  acks: -1,
});
const start = Date.now();
let inflight = 0;
let n = 0;
let produced = 0;
let skipped = 0;
let late = 0;
let prev: number[] = [];
let owed = 0;
for (let tick = 0; Date.now() - start < seconds * 1000; tick++) {
  const wait = start + tick * TICK_MS - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  else if (wait < -TICK_MS) late++;
  owed += (rate * TICK_MS) / 1000;
  if (inflight >= MAX_INFLIGHT) {
    skipped++;
    owed = 0;
    prev = [];
    continue;
  }
  const now = Date.now();
  const iso = new Date(now).toISOString();
  const ts = BigInt(now);
  const orders: Message[] = [];
  const payments: Message[] = [];
  for (const m of prev) {
    const p = { ...makePayment(GEN, 0, m), payment_date: iso, created_at: iso };
    payments.push({ topic: paymentsTopic, key: p.order_id, value: JSON.stringify(p), timestamp: ts });
  }
  const fresh: number[] = [];
  while (payments.length + orders.length < owed) {
    const o = { ...makeOrder(GEN, 0, n), order_date: iso, created_at: iso };
    orders.push({ topic: ordersTopic, key: o.order_id, value: JSON.stringify(o), timestamp: ts });
    fresh.push(n++);
  }
  owed -= orders.length + payments.length;
  prev = fresh;
  produced += orders.length + payments.length;
  inflight++;
  producer
    .send({ messages: payments.length ? orders.concat(payments) : orders })
    .catch((err: Error) => process.stderr.write(`live producer: ${err.message}\n`))
    .finally(() => inflight--);
}
while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
await producer.close();
process.stdout.write(JSON.stringify({ records: produced, seconds: (Date.now() - start) / 1000, skippedTicks: skipped, lateTicks: late }) + '\n');

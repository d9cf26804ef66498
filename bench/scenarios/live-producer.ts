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
 * It never queues: kafkajs (not the engine's producer, which keeps one
 * request in flight) with up to 16 requests in flight; a tick that finds 16
 * still pending is skipped and counted, so an overloaded producer shows up as
 * a lower achieved rate, never as queueing delay inside the measurement.
 * Prints one JSON line: {"records":N,"seconds":S,"skippedTicks":K,"lateTicks":L}.
 */
import { Kafka, logLevel, Partitioners, type Message } from 'kafkajs';
import { makeOrder, makePayment } from '../../jobs/orders-payments/records.ts';
import { GEN } from './kafka-data.ts';

const [brokers, ordersTopic, paymentsTopic, rateArg, secondsArg] = process.argv.slice(2);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const TICK_MS = 10;
const MAX_INFLIGHT = 16;

const kafka = new Kafka({ brokers: brokers.split(','), clientId: 'sluice-bench-live', logLevel: logLevel.WARN });
const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
await producer.connect();
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
  const ts = String(now);
  const orders: Message[] = [];
  const payments: Message[] = [];
  for (const m of prev) {
    const p = { ...makePayment(GEN, 0, m), payment_date: iso, created_at: iso };
    payments.push({ key: p.order_id, value: JSON.stringify(p), timestamp: ts });
  }
  const fresh: number[] = [];
  while (payments.length + orders.length < owed) {
    const o = { ...makeOrder(GEN, 0, n), order_date: iso, created_at: iso };
    orders.push({ key: o.order_id, value: JSON.stringify(o), timestamp: ts });
    fresh.push(n++);
  }
  owed -= orders.length + payments.length;
  prev = fresh;
  produced += orders.length + payments.length;
  inflight++;
  producer
    .sendBatch({ acks: -1, topicMessages: [{ topic: ordersTopic, messages: orders }, { topic: paymentsTopic, messages: payments }] })
    .catch((err: Error) => process.stderr.write(`live producer: ${err.message}\n`))
    .finally(() => inflight--);
}
while (inflight > 0) await new Promise((r) => setTimeout(r, 5));
await producer.disconnect();
process.stdout.write(JSON.stringify({ records: produced, seconds: (Date.now() - start) / 1000, skippedTicks: skipped, lateTicks: late }) + '\n');

/**
 * The data of the Kafka scenario: orders and payments topics (seed 001
 * shapes, jobs/orders-payments/records.ts), preloaded once and read by every
 * contender.
 *
 * Topics `sluice-bench-orders-<N>-p<P>` and `sluice-bench-payments-<N>-p<P>`,
 * P partitions each, retention.ms=-1 (the records carry 2024 event times,
 * which the broker's default 7-day retention would delete at once). Records:
 *   key       order_id (so the default partitioner co-partitions both topics)
 *   value     JSON of an Order / a Payment
 *   timestamp the event time (order_date / payment_date), which is what
 *             Kafka Streams' windows use, and equal to what sluice extracts
 * Orders: order n for n = 0..N-1, event times 10 ms apart; after every
 * 100th order a duplicate of the order 49 before it (amount + 1, event time
 * of the current order), which "first order wins" must drop: N + N/100
 * records. Payments: one for each order except every 10th (unpaid), up to
 * 60 s after its order: 0.9 N records. Everything is a pure function of n.
 * A topic that already exists with exactly the expected record count is
 * reused, so repeated runs skip the preload.
 */
import '../../engine/kafka/kafkajs-fast-decode.ts'; // before kafkajs loads (engine/kafka/kafkajs-fast-decode.ts)
import { Kafka, logLevel } from 'kafkajs';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { createProducer } from '../../engine/kafka/producer.ts';
import type { ProducerRecord } from '../../engine/kafka/types.ts';
import { makeOrder, makePayment, orderTime, type GenOptions, type Order } from '../../jobs/orders-payments/records.ts';
import { log } from '../bench-harness.ts';

export const GEN: GenOptions = { partitions: 1, customers: 1000, orderSpacingMs: 10, maxPaymentDelayMs: 60_000 };

export interface Dataset {
  ordersTopic: string;
  paymentsTopic: string;
  partitions: number;
  orders: number;
  orderRecords: number;
  paymentRecords: number;
  /** orderRecords + paymentRecords: what a contender must read. */
  total: number;
  preloadS: number | undefined;
}

export function datasetFor(orders: number, partitions: number, prefix = 'sluice-bench'): Dataset {
  const orderRecords = orders + Math.floor(orders / 100);
  const paymentRecords = orders - Math.floor(orders / 10);
  return {
    ordersTopic: `${prefix}-orders-${orders}-p${partitions}`,
    paymentsTopic: `${prefix}-payments-${orders}-p${partitions}`,
    partitions,
    orders,
    orderRecords,
    paymentRecords,
    total: orderRecords + paymentRecords,
    preloadS: undefined,
  };
}

function orderRecord(topic: string, o: Order, time: number): ProducerRecord {
  return { topic, key: o.order_id, value: JSON.stringify(o), timestamp: time };
}

/** The orders stream in production order (originals and duplicates), for n in [from, to). */
export function* orderStream(topic: string, from: number, to: number): Generator<ProducerRecord> {
  for (let n = from; n < to; n++) {
    const t = orderTime(GEN, n);
    yield orderRecord(topic, makeOrder(GEN, 0, n), t);
    if (n % 100 === 99) {
      const dup = makeOrder(GEN, 0, n - 49);
      yield orderRecord(topic, { ...dup, amount: dup.amount + 1 }, t);
    }
  }
}

export function* paymentStream(topic: string, from: number, to: number): Generator<ProducerRecord> {
  for (let n = from; n < to; n++) {
    if (n % 10 === 9) continue;
    const p = makePayment(GEN, 0, n);
    yield { topic, key: p.order_id, value: JSON.stringify(p), timestamp: Date.parse(p.payment_date) };
  }
}

async function endOffsetSum(brokers: string[], topic: string): Promise<number | undefined> {
  const admin = createAdmin({ brokers, clientId: 'sluice-bench' });
  try {
    if ((await admin.partitionCount(topic)) === undefined) return undefined;
    let sum = 0;
    for (const v of (await admin.topicEndOffsets(topic)).values()) sum += v;
    return sum;
  } finally {
    await admin.close();
  }
}

async function produceAll(brokers: string[], records: Iterable<ProducerRecord>): Promise<number> {
  const producer = createProducer({ brokers, clientId: 'sluice-bench-preload' });
  await producer.connect();
  let n = 0;
  try {
    let batch: ProducerRecord[] = [];
    const inflight: Promise<void>[] = [];
    for (const r of records) {
      batch.push(r);
      n++;
      if (batch.length === 20_000) {
        inflight.push(producer.send(batch));
        batch = [];
        if (inflight.length >= 3) await inflight.shift();
      }
    }
    if (batch.length) inflight.push(producer.send(batch));
    await Promise.all(inflight);
  } finally {
    await producer.disconnect();
  }
  return n;
}

/** Creates and fills the topics unless they already hold exactly this dataset. */
export async function preload(brokers: string[], d: Dataset): Promise<Dataset> {
  const have = [await endOffsetSum(brokers, d.ordersTopic), await endOffsetSum(brokers, d.paymentsTopic)];
  if (have[0] === d.orderRecords && have[1] === d.paymentRecords) {
    log(`kafka: reusing ${d.ordersTopic} (${have[0]}) and ${d.paymentsTopic} (${have[1]})`);
    return d;
  }
  await deleteTopics(brokers, [d.ordersTopic, d.paymentsTopic].filter((_, i) => have[i] !== undefined));
  const admin = createAdmin({ brokers, clientId: 'sluice-bench' });
  try {
    for (const t of [d.ordersTopic, d.paymentsTopic]) await admin.ensureTopic(t, d.partitions, { 'retention.ms': '-1' });
  } finally {
    await admin.close();
  }
  log(`kafka: preloading ${d.total} records into ${d.ordersTopic} and ${d.paymentsTopic}`);
  const t0 = performance.now();
  const [o, p] = await Promise.all([
    produceAll(brokers, orderStream(d.ordersTopic, 0, d.orders)),
    produceAll(brokers, paymentStream(d.paymentsTopic, 0, d.orders)),
  ]);
  const preloadS = (performance.now() - t0) / 1000;
  if (o !== d.orderRecords || p !== d.paymentRecords) throw new Error(`preload produced ${o}/${p}, expected ${d.orderRecords}/${d.paymentRecords}`);
  log(`kafka: preloaded ${d.total} records in ${preloadS.toFixed(1)} s (${Math.round(d.total / preloadS)} records/s)`);
  return { ...d, preloadS };
}

export async function deleteTopics(brokers: string[], topics: string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = new Kafka({ brokers, clientId: 'sluice-bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics, timeout: 30_000 });
  } finally {
    await admin.disconnect();
  }
}

/** Deletes every topic whose name starts with `prefix` (a run's changelog and checkpoint topics). */
export async function deleteTopicsWithPrefix(brokers: string[], prefix: string): Promise<string[]> {
  const admin = new Kafka({ brokers, clientId: 'sluice-bench-admin', logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    if (topics.length) await admin.deleteTopics({ topics, timeout: 30_000 });
    return topics;
  } finally {
    await admin.disconnect();
  }
}

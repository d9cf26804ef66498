/**
 * orders-payments: seed 001's pipeline done right. Orders (Kafka
 * `orders_topic_data_v1`) and payments (`payments_topic_data_v1`), JSON,
 * joined on order_id into MongoDB `ecommerce_mart.orders_data_process_fact`.
 * Semantics (README, "orders-payments"):
 *
 *   - a payment matches its order whichever arrives first: an interval join
 *     (engine/operators/interval-join.ts, full outer, unique left) on event
 *     time, payment_date within [order_date - paymentSkewMinutes,
 *     order_date + timeoutMinutes];
 *   - a duplicate order (same order_id while the first is held) is dropped
 *     and counted (`join:duplicate_orders`); the first one wins;
 *   - each payment of an order gives its own row;
 *   - an order with no payment by the timeout gives one row, status "unpaid";
 *   - a payment whose order never comes goes to the dead-letter topic
 *     (`orders-payments.dlq`) with reason `unknown_order`;
 *   - once a key's records time out, nothing of that key is kept.
 *   - a record that arrives after the watermark (minus graceMs) has passed
 *     it goes to the dead-letter topic as `late_order` / `late_payment`;
 *     invalid input as `decode_error` / `validation_failed`.
 *
 * Co-partitioning (copartitioned=true, the default): both topics must be
 * keyed by order_id with the same partitioner and partition count, as
 * `sluice produce orders-payments` writes them. With copartitioned=false
 * (e.g. the seed's producers, which send no key) a first stage reads the
 * topics as they are and writes every record, keyed by order_id, to the
 * internal topics `<repartitionPrefix>-repartition-orders` / `-payments`; the join stage
 * reads those, dropping the copies a redelivery wrote, so the output stays
 * exactly-once. Both stages run in the same actors (partition p of every
 * topic), so the raw topics need equal partition counts.
 */
import {
  defineJob,
  discardSink,
  fileSink,
  IntervalJoin,
  JOIN_SIDE_OUTPUTS,
  kafkaSource,
  Operator,
  RepartitionReader,
  repartitionSink,
  type Batch,
  type OperatorContext,
  type PipelineBuilder,
  type RepartitionEnvelope,
  type SinkSpec,
  type SourceSpec,
  type Stream,
} from '../api/index.ts';
import { mongoSink } from '../api/sinks/mongo.ts';
import { factId, paidFact, unpaidFact, type Fact } from './orders-payments/facts.ts';
import type { Order, Payment } from './orders-payments/records.ts';
import { isHeartbeat, orderTime, paymentTime, validateOrder, validatePayment, type Heartbeat } from './orders-payments/validate.ts';

export const JOB_NAME = 'orders-payments';

const defaults = {
  ordersTopic: 'orders_topic_data_v1',
  paymentsTopic: 'payments_topic_data_v1',
  /** An order with no payment this long after it (event time) is emitted unpaid. */
  timeoutMinutes: 15,
  /** A payment's event time may precede its order's by this much (clock skew between producers). */
  paymentSkewMinutes: 1,
  /** Watermark: records may arrive this much behind the newest event time of their partition. */
  outOfOrdernessMs: 60_000,
  /** Extra time a record may be behind the watermark and still join. */
  graceMs: 0,
  /** 0: a silent partition holds event time back (no late records); > 0: it stops doing so after this long. */
  idleTimeoutMs: 0,
  /** false: the topics are not keyed by order_id (or not alike): repartition first. */
  copartitioned: true,
  /**
   * Internal topics are `<prefix>-repartition-orders` and `-payments`. They
   * belong to one run of the job: when its state and group are reset, delete
   * them too (their records carry the old run's ids).
   */
  repartitionPrefix: 'orders-payments',
  /** Where rows go: mongo, discard (benchmarks) or file (JSON lines under the output dir). */
  sink: 'mongo',
  /** Connection string; empty: env SLUICE_MONGO_URI. */
  mongoUri: '',
  mongoDb: 'ecommerce_mart',
  mongoCollection: 'orders_data_process_fact',
  /**
   * insert-once (default): a document already stored is kept. Exact here,
   * because a row is a function of its _id's records (the same _id always
   * carries the same row), and it never needs a lookup by _id, which
   * FerretDB does by scanning (engine/sinks/mongo-sink.ts). upsert and
   * insert-then-replace: last write wins.
   */
  mongoWriteMode: 'insert-once',
  mongoBatchSize: 500,
  mongoConcurrency: 4,
};

export type OrdersPaymentsSettings = typeof defaults;

/** Paid and unpaid rows, or a payment no order claimed (dead-lettered by RouteUnknown). */
type JoinOut = Fact | { unknownPayment: Payment };

/** Sends payments no order claimed to the dead-letter topic; passes the rows on. */
class RouteUnknown extends Operator<JoinOut, Fact> {
  process(batch: Batch<JoinOut>, ctx: OperatorContext<Fact>): void {
    const { values, times, keys } = batch;
    for (let i = 0; i < values.length; i++) {
      const v = values[i];
      if ('unknownPayment' in v) ctx.deadLetter(v.unknownPayment, 'unknown_order');
      else ctx.emit(v, times[i], keys?.[i]);
    }
  }
}

/** Sends every record to the dead-letter topic with one reason. */
class DeadLetterAll extends Operator<unknown, never> {
  constructor(private readonly reason: string) {
    super();
  }
  process(batch: Batch<unknown>, ctx: OperatorContext<never>): void {
    for (const v of batch.values) ctx.deadLetter(v, this.reason);
  }
}

/** Drops everything (duplicates are counted by the join already). */
class Drop extends Operator<unknown, never> {
  process(): void {}
}

function repartitionTopic(s: OrdersPaymentsSettings, source: 'orders' | 'payments'): string {
  return `${s.repartitionPrefix}-repartition-${source}`;
}

function sources(s: OrdersPaymentsSettings): Record<string, SourceSpec> {
  const watermark = { maxOutOfOrdernessMs: s.outOfOrdernessMs, idleTimeoutMs: s.idleTimeoutMs };
  // A partition without a checkpoint starts at the group's committed offset, else at the beginning.
  const startFrom = 'earliest';
  const raw = {
    orders: kafkaSource<Order | Heartbeat>({ topic: s.ordersTopic, codec: 'json', startFrom, validate: validateOrder, timestamp: orderTime, watermark }),
    payments: kafkaSource<Payment | Heartbeat>({ topic: s.paymentsTopic, codec: 'json', startFrom, validate: validatePayment, timestamp: paymentTime, watermark }),
  };
  if (s.copartitioned) return raw;
  const internal = (source: 'orders' | 'payments') =>
    kafkaSource<RepartitionEnvelope>({ topic: repartitionTopic(s, source), codec: 'json', internal: true, startFrom: 'earliest', timestamp: (e) => e.t, watermark });
  return { 'orders-raw': raw.orders, 'payments-raw': raw.payments, orders: internal('orders'), payments: internal('payments') };
}

function writeMode(m: string): 'insert-once' | 'insert-then-replace' | 'upsert' {
  if (m === 'insert-once' || m === 'insert-then-replace' || m === 'upsert') return m;
  throw new Error(`orders-payments: mongoWriteMode must be insert-once, insert-then-replace or upsert, got "${m}"`);
}

function sinks(s: OrdersPaymentsSettings): Record<string, SinkSpec> {
  const out: Record<string, SinkSpec> = {};
  if (s.sink === 'mongo') {
    out.facts = mongoSink({
      uri: s.mongoUri || undefined,
      db: s.mongoDb,
      collection: s.mongoCollection,
      id: (v) => factId(v as Fact),
      mode: writeMode(s.mongoWriteMode),
      batchSize: s.mongoBatchSize,
      concurrency: s.mongoConcurrency,
    });
  } else if (s.sink === 'discard') out.facts = discardSink();
  else if (s.sink === 'file') out.facts = fileSink({ dir: 'facts' });
  else throw new Error(`orders-payments: sink must be mongo, discard or file, got "${s.sink}"`);
  if (!s.copartitioned) {
    out['repartition-orders'] = repartitionSink({ topic: repartitionTopic(s, 'orders') });
    out['repartition-payments'] = repartitionSink({ topic: repartitionTopic(s, 'payments') });
  }
  return out;
}

function keyedInputs(b: PipelineBuilder, s: OrdersPaymentsSettings): { orders: Stream<Order>; payments: Stream<Payment> } {
  const notHeartbeat = (v: unknown): boolean => !isHeartbeat(v);
  if (s.copartitioned) {
    return {
      orders: b.source<Order | Heartbeat>('orders').filter(notHeartbeat, 'orders-drop-heartbeats').keyBy((o) => (o as Order).order_id, 'orders-by-id') as Stream<Order>,
      payments: b.source<Payment | Heartbeat>('payments').filter(notHeartbeat, 'payments-drop-heartbeats').keyBy((p) => (p as Payment).order_id, 'payments-by-order-id') as Stream<Payment>,
    };
  }
  // Stage 1: whatever partitioning the topics have, to the repartition topics keyed by order_id
  // (heartbeats have no key: the repartition sink copies them to every partition).
  const byOrderId = (v: Order | Payment | Heartbeat): string => (isHeartbeat(v) ? (undefined as unknown as string) : v.order_id);
  b.source<Order | Heartbeat>('orders-raw').keyBy(byOrderId, 'orders-repartition-key').to('repartition-orders');
  b.source<Payment | Heartbeat>('payments-raw').keyBy(byOrderId, 'payments-repartition-key').to('repartition-payments');
  // Stage 2: the repartitioned streams, each record once, keyed as written.
  return {
    orders: b.source<RepartitionEnvelope<Order | Heartbeat>>('orders').process(new RepartitionReader<Order | Heartbeat>(), 'orders-dedupe').filter(notHeartbeat, 'orders-drop-heartbeats') as Stream<Order>,
    payments: b.source<RepartitionEnvelope<Payment | Heartbeat>>('payments').process(new RepartitionReader<Payment | Heartbeat>(), 'payments-dedupe').filter(notHeartbeat, 'payments-drop-heartbeats') as Stream<Payment>,
  };
}

export default defineJob<OrdersPaymentsSettings>({
  name: JOB_NAME,
  description: 'Kafka orders ⋈ payments on order_id (interval join, unpaid after a timeout, unknown payments dead-lettered) into MongoDB',
  settings: defaults,
  choices: { sink: ['mongo', 'discard', 'file'], mongoWriteMode: ['insert-once', 'insert-then-replace', 'upsert'] },
  sources,
  sinks,
  pipeline(b, s) {
    const minute = 60_000;
    const { orders, payments } = keyedInputs(b, s);
    const joined = b.connect(orders, payments).process(
      new IntervalJoin<Order, Payment, JoinOut>({
        mode: 'full',
        lowerBoundMs: -s.paymentSkewMinutes * minute,
        upperBoundMs: s.timeoutMinutes * minute,
        graceMs: s.graceMs,
        uniqueLeft: true,
        joined: paidFact,
        leftOnly: unpaidFact,
        rightOnly: (p) => ({ unknownPayment: p }),
        counters: { duplicates: 'duplicate_orders', lateLeft: 'late_orders', lateRight: 'late_payments' },
      }),
      'join',
    );
    joined.process(new RouteUnknown(), 'route-unknown-payments').to('facts');
    joined.sideOutput(JOIN_SIDE_OUTPUTS.lateLeft).process(new DeadLetterAll('late_order'), 'dead-letter-late-orders');
    joined.sideOutput(JOIN_SIDE_OUTPUTS.lateRight).process(new DeadLetterAll('late_payment'), 'dead-letter-late-payments');
    joined.sideOutput(JOIN_SIDE_OUTPUTS.duplicate).process(new Drop(), 'drop-duplicate-orders');
  },
});

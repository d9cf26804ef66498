/**
 * `sluice produce orders-payments [options]`: writes orders and payments
 * (seed 001's JSON shapes) to Kafka, from the deterministic plan in
 * jobs/orders-payments/stream-plan.ts, at a chosen rate or as fast as it can.
 *
 * Keys: by default every record is keyed by order_id (Kafka's default
 * partitioner), so both topics are co-partitioned as the job expects. With
 * --unkeyed records carry no key and go round-robin over the partitions, as
 * the seed's Python producers do; run the job with --set copartitioned=false
 * then. At the end (unless --no-heartbeat) one heartbeat per partition of
 * each topic moves event time a day past the last record, so the job emits
 * its last unpaid orders and unknown payments.
 *
 * Exit codes: 0 done, 1 failed, 2 bad usage.
 *
 * It lives in cli/, not engine/cli/, because it is part of the built-in
 * orders-payments job's tooling: it imports that job's plan (jobs/), which
 * engine/ never does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ENV_FILE, parseEnvFile } from '../engine/dev/env-file.ts';
import { createAdmin } from '../engine/kafka/admin.ts';
import { createProducer } from '../engine/kafka/producer.ts';
import type { ProducerRecord } from '../engine/kafka/types.ts';
import { DEFAULT_PLAN, planRecords, type PlanOptions, type PlannedRecord } from '../jobs/orders-payments/stream-plan.ts';

export const PRODUCE_HELP = `sluice produce orders-payments [options]

Writes orders and payments (seed 001 shapes) to Kafka.

  --brokers host:port,...     Kafka (env SLUICE_BROKERS, else .sluice/dev.env's; default 127.0.0.1:9092)
  --orders N                  orders to write (default ${DEFAULT_PLAN.orders}; 0: until interrupted)
  --rate N                    orders per second (default 0: as fast as possible)
  --seed N                    the plan's seed (default ${DEFAULT_PLAN.seed}); the same seed writes the same records
  --customers N               distinct customer ids (default ${DEFAULT_PLAN.customers})
  --duplicate-rate R          share of orders sent twice (default ${DEFAULT_PLAN.duplicateRate})
  --payments-first R          share of payments sent before their order (default ${DEFAULT_PLAN.paymentsFirstRate})
  --unpaid R                  share of orders never paid (default ${DEFAULT_PLAN.unpaidRate})
  --late-payments R           share of orders paid after the timeout (default ${DEFAULT_PLAN.latePaymentRate})
  --split-payments R          share of orders paid in two payments (default ${DEFAULT_PLAN.splitPaymentRate})
  --orphan-payments R         payments for orders that never come, per order (default ${DEFAULT_PLAN.orphanPaymentRate})
  --bad-records R             invalid records (bad JSON, no order_id, string amount), per order (default 0)
  --disorder-ms N             arrival lags event time by up to N ms: out-of-order event times (default ${DEFAULT_PLAN.disorderMs})
  --event-spacing-ms N        event time between consecutive orders (default ${DEFAULT_PLAN.eventSpacingMs})
  --max-payment-delay-ms N    latest on-time payment after its order (default ${DEFAULT_PLAN.maxPaymentDelayMs})
  --timeout-minutes N         the job's timeout, to place late payments after it (default 15)
  --payment-skew-minutes N    the job's paymentSkewMinutes (default 1)
  --start-time ISO            event time of the first order (default ${new Date(DEFAULT_PLAN.startTime).toISOString()})
  --partitions N              partitions when creating the topics (default 4)
  --unkeyed                   no keys, round-robin partitions (the seed's producers; needs copartitioned=false)
  --no-heartbeat              do not send the closing heartbeats
  --orders-topic T            default orders_topic_data_v1
  --payments-topic T          default payments_topic_data_v1
`;

export interface ProduceOptions {
  brokers: string[];
  ordersTopic: string;
  paymentsTopic: string;
  partitions: number;
  keyed: boolean;
  heartbeat: boolean;
  /** Orders per second; 0 = as fast as possible. */
  rate: number;
  plan: Partial<PlanOptions>;
  log?: (line: string) => void;
  /** Stops an endless run (SIGINT in the CLI). */
  signal?: AbortSignal;
}

export interface ProduceResult {
  orders: number;
  payments: number;
  bad: number;
  heartbeats: number;
  ms: number;
  lastEventTime: number;
}

const CHUNK = 2_000;

function eventTimeOf(r: PlannedRecord): number {
  if (r.kind === 'bad') return -Infinity;
  return Date.parse(r.topic === 'orders' ? (r.value as { order_date: string }).order_date : (r.value as { payment_date: string }).payment_date);
}

/** Writes the plan to Kafka; resolves when the broker has acknowledged everything. */
export async function produceOrdersPayments(o: ProduceOptions): Promise<ProduceResult> {
  const started = Date.now();
  const cfg = { brokers: o.brokers, clientId: 'sluice-produce-orders-payments' };
  const admin = createAdmin(cfg);
  const partitions = new Map<string, number>();
  try {
    for (const t of [o.ordersTopic, o.paymentsTopic]) {
      await admin.ensureTopic(t, o.partitions).catch(async (err: unknown) => {
        // An existing topic with another partition count is fine: we write to what is there.
        if ((await admin.partitionCount(t)) === undefined) throw err;
      });
      partitions.set(t, (await admin.partitionCount(t)) ?? o.partitions);
    }
  } finally {
    await admin.close();
  }
  const producer = createProducer(cfg, { idempotent: true });
  await producer.connect();
  const res: ProduceResult = { orders: 0, payments: 0, bad: 0, heartbeats: 0, ms: 0, lastEventTime: -Infinity };
  let rr = 0;
  // Small chunks at low rates, so the rate is kept smoothly rather than in bursts.
  const chunkLimit = o.rate > 0 ? Math.max(1, Math.min(CHUNK, Math.floor(o.rate / 10))) : CHUNK;
  let chunk: ProducerRecord[] = [];
  const flush = async (): Promise<void> => {
    if (chunk.length === 0) return;
    const c = chunk;
    chunk = [];
    await producer.send(c);
  };
  try {
    for (const r of planRecords(o.plan)) {
      if (o.signal?.aborted) break;
      const topic = r.topic === 'orders' ? o.ordersTopic : o.paymentsTopic;
      const value = typeof r.value === 'string' ? r.value : JSON.stringify(r.value);
      const key = o.keyed ? r.key : null;
      const partition = key === null ? rr++ % partitions.get(topic)! : undefined;
      chunk.push({ topic, key, value, partition });
      if (r.kind === 'bad') res.bad++;
      else if (r.topic === 'orders') res.orders++;
      else res.payments++;
      const t = eventTimeOf(r);
      if (t > res.lastEventTime) res.lastEventTime = t;
      if (chunk.length >= chunkLimit) {
        await flush();
        if (o.rate > 0) {
          // Stay at or under the rate: sleep off any lead over the schedule.
          const ahead = (res.orders / o.rate) * 1000 - (Date.now() - started);
          if (ahead > 0) await new Promise((s) => setTimeout(s, ahead));
        }
      }
      if (o.log && (res.orders + res.payments) % 100_000 === 0) o.log(`produce: ${res.orders} orders, ${res.payments} payments`);
    }
    await flush();
    if (o.heartbeat) {
      // A day past the last record: every timeout and bound of the job has passed by then.
      chunk = heartbeatRecords(partitions, (Number.isFinite(res.lastEventTime) ? res.lastEventTime : Date.now()) + 24 * 3_600_000);
      res.heartbeats = chunk.length;
      await flush();
    }
    await producer.flush();
  } finally {
    await producer.disconnect();
  }
  res.ms = Date.now() - started;
  return res;
}

/** One heartbeat (jobs/orders-payments/validate.ts) per partition of each topic, at `eventTime`. */
function heartbeatRecords(partitions: ReadonlyMap<string, number>, eventTime: number): ProducerRecord[] {
  const value = JSON.stringify({ heartbeat: true, event_time: new Date(eventTime).toISOString() });
  const out: ProducerRecord[] = [];
  for (const [topic, n] of partitions) for (let p = 0; p < n; p++) out.push({ topic, partition: p, key: null, value });
  return out;
}

/** Sends the closing heartbeats on their own (when the records were produced with heartbeat: false). */
export async function sendHeartbeats(brokers: string[], topics: string[], eventTime: number): Promise<number> {
  const cfg = { brokers, clientId: 'sluice-produce-heartbeats' };
  const admin = createAdmin(cfg);
  const partitions = new Map<string, number>();
  try {
    for (const t of topics) partitions.set(t, (await admin.partitionCount(t)) ?? 0);
  } finally {
    await admin.close();
  }
  const producer = createProducer(cfg, { idempotent: true });
  await producer.connect();
  try {
    const records = heartbeatRecords(partitions, eventTime);
    await producer.send(records);
    return records.length;
  } finally {
    await producer.disconnect();
  }
}

function num(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} must be a non-negative number, got "${v}"`);
  return n;
}

/** The CLI: `args` are the arguments after `produce`. */
export async function produceCommand(args: string[], io: { out: (s: string) => void; err: (s: string) => void }): Promise<number> {
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  try {
    const s = (type: 'string' | 'boolean') => ({ type });
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        brokers: s('string'),
        orders: s('string'),
        rate: s('string'),
        seed: s('string'),
        customers: s('string'),
        'duplicate-rate': s('string'),
        'payments-first': s('string'),
        unpaid: s('string'),
        'late-payments': s('string'),
        'split-payments': s('string'),
        'orphan-payments': s('string'),
        'bad-records': s('string'),
        'disorder-ms': s('string'),
        'event-spacing-ms': s('string'),
        'max-payment-delay-ms': s('string'),
        'timeout-minutes': s('string'),
        'payment-skew-minutes': s('string'),
        'start-time': s('string'),
        partitions: s('string'),
        unkeyed: s('boolean'),
        'no-heartbeat': s('boolean'),
        'orders-topic': s('string'),
        'payments-topic': s('string'),
      },
    }));
  } catch (err) {
    io.err(`sluice produce: ${(err as Error).message}\n\n${PRODUCE_HELP}`);
    return 2;
  }
  if (values.help) {
    io.out(PRODUCE_HELP);
    return 0;
  }
  if (positionals.length !== 1 || positionals[0] !== 'orders-payments') {
    io.err(`sluice produce: the only producer is "orders-payments"\n\n${PRODUCE_HELP}`);
    return 2;
  }
  let opts: ProduceOptions;
  try {
    const str = (k: string): string | undefined => values[k] as string | undefined;
    const d = DEFAULT_PLAN;
    const orders = num('orders', str('orders'), d.orders);
    const start = str('start-time') === undefined ? d.startTime : Date.parse(str('start-time')!);
    if (!Number.isFinite(start)) throw new Error(`--start-time must be an ISO date-time, got "${str('start-time')}"`);
    opts = {
      brokers: (str('brokers') ?? process.env.SLUICE_BROKERS ?? devEnv().SLUICE_BROKERS ?? '127.0.0.1:9092').split(',').map((b) => b.trim()).filter(Boolean),
      ordersTopic: str('orders-topic') ?? 'orders_topic_data_v1',
      paymentsTopic: str('payments-topic') ?? 'payments_topic_data_v1',
      partitions: num('partitions', str('partitions'), 4),
      keyed: values.unkeyed !== true,
      heartbeat: values['no-heartbeat'] !== true,
      rate: num('rate', str('rate'), 0),
      plan: {
        orders: orders === 0 ? Infinity : orders,
        seed: num('seed', str('seed'), d.seed),
        customers: num('customers', str('customers'), d.customers),
        duplicateRate: num('duplicate-rate', str('duplicate-rate'), d.duplicateRate),
        paymentsFirstRate: num('payments-first', str('payments-first'), d.paymentsFirstRate),
        unpaidRate: num('unpaid', str('unpaid'), d.unpaidRate),
        latePaymentRate: num('late-payments', str('late-payments'), d.latePaymentRate),
        splitPaymentRate: num('split-payments', str('split-payments'), d.splitPaymentRate),
        orphanPaymentRate: num('orphan-payments', str('orphan-payments'), d.orphanPaymentRate),
        badRecordRate: num('bad-records', str('bad-records'), 0),
        disorderMs: num('disorder-ms', str('disorder-ms'), d.disorderMs),
        eventSpacingMs: num('event-spacing-ms', str('event-spacing-ms'), d.eventSpacingMs),
        maxPaymentDelayMs: num('max-payment-delay-ms', str('max-payment-delay-ms'), d.maxPaymentDelayMs),
        timeoutMs: num('timeout-minutes', str('timeout-minutes'), 15) * 60_000,
        skewMs: num('payment-skew-minutes', str('payment-skew-minutes'), 1) * 60_000,
        startTime: start,
      },
      log: (line) => io.err(`${line}\n`),
    };
  } catch (err) {
    io.err(`sluice produce: ${(err as Error).message}\n`);
    return 2;
  }
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  process.once('SIGINT', onSignal);
  try {
    const r = await produceOrdersPayments({ ...opts, signal: ac.signal });
    const secs = r.ms / 1000;
    io.out(
      `produced ${r.orders} orders and ${r.payments} payments${r.bad ? `, ${r.bad} invalid records` : ''}` +
        `${r.heartbeats ? `, ${r.heartbeats} heartbeats` : ''} in ${secs.toFixed(1)} s ` +
        `(${Math.round((r.orders + r.payments) / Math.max(secs, 0.001))} records/s) to ${opts.ordersTopic} and ${opts.paymentsTopic}` +
        `${opts.keyed ? ', keyed by order_id' : ', unkeyed'}\n`,
    );
    return 0;
  } catch (err) {
    io.err(`sluice produce: ${(err as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSignal);
  }
}

/** The variables of `sluice dev up`'s env file in this directory, if there is one (as `sluice run` reads it). */
function devEnv(): Record<string, string> {
  return existsSync(DEFAULT_ENV_FILE) ? parseEnvFile(readFileSync(DEFAULT_ENV_FILE, 'utf8')) : {};
}

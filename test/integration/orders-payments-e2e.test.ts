/**
 * orders-payments end to end, against the real Kafka broker and a real
 * MongoDB-wire server (FerretDB 1.24/SQLite): the job runs as a real `sluice`
 * process with 2 workers, is killed with SIGKILL at random moments while it
 * works and restarted each time; at the end the collection holds exactly the
 * expected output (jobs/orders-payments/expected.ts over the producer's plan):
 * the same count, every document equal. Invalid input (malformed JSON, no
 * order_id, a string amount) and unknown payments are in the dead-letter
 * topic with their reasons, once each.
 *
 * Size: SLUICE_OP_E2E_ORDERS orders (default 100,000) and SLUICE_OP_E2E_KILLS
 * kills (default 5). The full run, 1,000,000 orders, is
 * `npx tsx bench/orders-payments.ts --orders 1000000 --kills 5` (bench/).
 *
 * The second test feeds unkeyed topics (the seed's producers send no key):
 * the job repartitions through internal topics and stays exactly-once
 * across kills.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { produceOrdersPayments, sendHeartbeats } from '../../cli/produce.ts';
import { expectedOutput } from '../../jobs/orders-payments/expected.ts';
import { planRecords, type PlanOptions } from '../../jobs/orders-payments/stream-plan.ts';
import { kafkaBrokers, uniqueName } from '../helpers/kafka.ts';
import { sleep, startSluice, waitFor, type SluiceProcess } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';
import { startFerretDb, type FerretDb } from '../../engine/dev/servers/ferretdb.ts';
import { collectionCount, compareCollection, endOffsets as endOffsetsOf, expectedDeadLetters, groupCaughtUp as caughtUp, readDeadLetters as readLetters, summarizeDeadLetters } from '../../bench/lib/orders-payments-check.ts';

const endOffsets = (topic: string) => endOffsetsOf(kafkaBrokers(), topic);
const groupCaughtUp = (group: string, topic: string) => caughtUp(kafkaBrokers(), group, topic);
const readDeadLetters = (topic: string, from: Map<number, number>) => readLetters(kafkaBrokers(), topic, from);

const ORDERS = Number(process.env.SLUICE_OP_E2E_ORDERS ?? 100_000);
const KILLS = Number(process.env.SLUICE_OP_E2E_KILLS ?? 5);
const DLQ = 'orders-payments.dlq';
const COLLECTION = 'orders_data_process_fact';
const TIMEOUT_MS = 15 * 60_000;
const SKEW_MS = 60_000;

let db: FerretDb;

beforeAll(async () => {
  db = await startFerretDb();
}, 600_000);

afterAll(async () => {
  await db?.stop();
});

interface Run {
  args: string[];
  group: string;
  topics: string[];
  mongoDb: string;
}

function jobArgs(name: string, extra: string[]): Run {
  const group = uniqueName(`${name}-group`);
  const mongoDb = `e2e_${name.replace(/\W/g, '_')}_${Date.now().toString(36)}`;
  const orders = uniqueName(`${name}-orders`);
  const payments = uniqueName(`${name}-payments`);
  const args = [
    'run', 'orders-payments', '--brokers', kafkaBrokers().join(','), '--workers', '2', '--state-dir', tempDir(), '--output-dir', tempDir(),
    '--group-id', group, '--checkpoint-interval', '500', '--session-timeout', '6000', '--no-progress',
    '--set', `ordersTopic=${orders}`, '--set', `paymentsTopic=${payments}`, '--set', `mongoUri=${db.uri}`, '--set', `mongoDb=${mongoDb}`,
    ...extra,
  ];
  return { args, group, topics: [orders, payments], mongoDb };
}

/**
 * Starts the job, and kills it with SIGKILL `kills` times while the input is
 * still being produced: each time once this process has written at least 100
 * documents of its own (it is demonstrably consuming, checkpointing and
 * delivering), then after a further random 0-1 s, wherever it is (batch,
 * checkpoint, delivery). Returns the process left running and what was
 * killed when.
 */
async function runWithKills(run: Run, kills: number, producing: Promise<unknown>, seed: number): Promise<{ last: SluiceProcess; log: string[] }> {
  let r = seed >>> 0;
  const rand = (): number => ((r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32);
  let produced = false;
  void producing.then(() => (produced = true));
  const docs = (): Promise<number> => collectionCount(db.uri, run.mongoDb, COLLECTION).catch(() => 0);
  const log: string[] = [];
  // The producer creates the topics; the job refuses to start without them.
  for (const t of run.topics) await waitFor(`topic ${t}`, async () => (await endOffsets(t)).size > 0, 60_000, 100);
  for (let k = 0; k < kills; k++) {
    const p = startSluice(run.args);
    let exited: number | string | undefined;
    void p.exited.then((code) => (exited = code));
    const before = await docs();
    const started = Date.now();
    // Once the input is complete there may be nothing left to write: then the kill lands
    // during start-up, redelivery or idling instead, 3-6 s into the process's life.
    const idleAfter = 3_000 + rand() * 3_000;
    let why = '';
    await waitFor(`process #${k} to write documents`, async () => {
      if (exited !== undefined) throw new Error(`the job exited (${exited}) before it was killed:\n${p.stderr()}`);
      const n = await docs();
      if (n >= before + 100) why = `after ${n - before} documents of its own`;
      else if (produced && Date.now() - started > idleAfter) why = `${Date.now() - started} ms into its life, input complete, ${n - before} documents of its own`;
      return why !== '';
    }, 300_000, 100);
    const delay = Math.floor(rand() * 1000);
    await sleep(delay);
    p.child.kill('SIGKILL');
    expect(await p.exited).toBe('SIGKILL');
    log.push(`#${k} killed ${delay} ms ${why}`);
  }
  return { last: startSluice(run.args), log };
}

/** Orders per second so that producing takes about `seconds`: the kills then land while input flows. */
function rateFor(orders: number, kills: number): number {
  return Math.max(50, Math.round(orders / Math.max(30, kills * 20)));
}

async function finish(run: Run, last: SluiceProcess): Promise<void> {
  await waitFor('the job to start', () => last.stderr().includes('sluice: running'), 60_000);
  for (const t of run.topics) await waitFor(`the group to commit every offset of ${t}`, () => groupCaughtUp(run.group, t), 600_000, 500);
  last.child.kill('SIGTERM');
  expect(await last.exited, last.stderr()).toBe(0);
}

describe('orders-payments over Kafka into MongoDB, killed and restarted', () => {
  it(`${ORDERS} orders, ${KILLS} SIGKILLs: the collection equals the expected output exactly`, { timeout: 1_800_000 }, async () => {
    const seed = Math.floor(Math.random() * 1e9);
    const plan: Partial<PlanOptions> = { orders: ORDERS, seed, badRecordRate: 0.001, timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS };
    const want = expectedOutput(planRecords(plan), { timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS });
    const run = jobArgs('op-e2e', []);
    const dlqFrom = await endOffsets(DLQ);
    // The input keeps arriving while the job is killed and restarted.
    const producing = produceOrdersPayments({ brokers: kafkaBrokers(), ordersTopic: run.topics[0], paymentsTopic: run.topics[1], partitions: 4, keyed: true, heartbeat: true, rate: rateFor(ORDERS, KILLS), plan });
    const { last, log } = await runWithKills(run, KILLS, producing, seed);
    const produced = await producing;
    expect(produced.orders).toBe(want.orders);
    await finish(run, last);

    const cmp = await compareCollection(db.uri, run.mongoDb, COLLECTION, want);
    const context = `seed ${seed}; ${log.join('; ')}`;
    expect({ missing: cmp.missing, unexpected: cmp.unexpected, different: cmp.different }, context).toEqual({ missing: [], unexpected: [], different: [] });
    expect(cmp.count, context).toBe(want.facts.size);

    const { letters, copies } = await readDeadLetters(DLQ, dlqFrom);
    expect(summarizeDeadLetters(letters), context).toEqual(expectedDeadLetters(want));
    // Dead letters share the epoch transactions: no redelivered copy reaches the topic.
    expect(copies, context).toBe(0);
    const unknown = letters.filter((l) => l.reason === 'unknown_order').map((l) => (l.value as { payment_id: string }).payment_id);
    expect(unknown.sort()).toEqual(want.unknownPayments.map((p) => p.payment_id).sort());
    // The plan covered what the issue asks for.
    expect(want.duplicateOrders).toBeGreaterThan(0);
    expect(want.badRecords.length).toBeGreaterThan(0);
  });

  it('unkeyed topics: repartitioned through internal topics, exactly once across 2 SIGKILLs', { timeout: 900_000 }, async () => {
    const seed = Math.floor(Math.random() * 1e9);
    // All event times within a minute: a record that reaches a repartitioned partition after
    // others from a faster upstream partition is never late (outOfOrdernessMs is 2 minutes).
    const plan: Partial<PlanOptions> = {
      orders: 6_000, seed, eventSpacingMs: 8, maxPaymentDelayMs: 5_000, disorderMs: 1_000, latePaymentRate: 0,
      badRecordRate: 0.002, timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS,
    };
    const want = expectedOutput(planRecords(plan), { timeoutMs: TIMEOUT_MS, skewMs: SKEW_MS });
    const prefix = uniqueName('op-e2e-unkeyed');
    const run = jobArgs('op-unkeyed', ['--set', 'copartitioned=false', '--set', `repartitionPrefix=${prefix}`, '--set', 'outOfOrdernessMs=120000']);
    const dlqFrom = await endOffsets(DLQ);
    const producing = produceOrdersPayments({ brokers: kafkaBrokers(), ordersTopic: run.topics[0], paymentsTopic: run.topics[1], partitions: 4, keyed: false, heartbeat: false, rate: rateFor(6_000, 2), plan });
    const { last, log } = await runWithKills(run, 2, producing, seed);
    const produced = await producing;
    expect(produced.orders).toBe(want.orders);
    await waitFor('the job to start', () => last.stderr().includes('sluice: running'), 60_000);
    // Heartbeats only once the first stage has moved every record to the repartition topics
    // (its group offsets commit after delivery): a heartbeat copied to a repartitioned partition
    // ahead of records still on their way would make those late.
    for (const t of run.topics) await waitFor(`stage 1 to repartition all of ${t}`, () => groupCaughtUp(run.group, t), 300_000, 500);
    await sendHeartbeats(kafkaBrokers(), run.topics, produced.lastEventTime + 24 * 3_600_000);
    // Raw topics first (the heartbeats have then been copied to the repartition topics), then those.
    const internal = [`${prefix}-repartition-orders`, `${prefix}-repartition-payments`];
    for (const t of [...run.topics, ...internal]) await waitFor(`the group to commit every offset of ${t}`, () => groupCaughtUp(run.group, t), 300_000, 500);
    last.child.kill('SIGTERM');
    expect(await last.exited, last.stderr()).toBe(0);

    const cmp = await compareCollection(db.uri, run.mongoDb, COLLECTION, want);
    const context = `seed ${seed}; ${log.join('; ')}`;
    expect({ missing: cmp.missing, unexpected: cmp.unexpected, different: cmp.different }, context).toEqual({ missing: [], unexpected: [], different: [] });
    expect(cmp.count, context).toBe(want.facts.size);
    const { letters, copies } = await readDeadLetters(DLQ, dlqFrom);
    expect(summarizeDeadLetters(letters), context).toEqual(expectedDeadLetters(want));
    expect(copies, context).toBe(0);
  });
});

/**
 * One retry loop on the produce path (issue 16: "one retry policy with one
 * shared backoff for all sinks; no nested retry loops"). A Kafka sink whose
 * writes keep failing tries the Kafka client exactly once per attempt of the
 * delivery policy; the client retries nothing of the write inside it. Before,
 * kafkajs retried each send itself, without end for an idempotent or
 * transactional producer (kafkajs' default there is Number.MAX_SAFE_INTEGER
 * retries), so the policy's budget and backoff bounded nothing: its first
 * attempt never returned. (@platformatic/kafka, the producer's client since,
 * does the same for an idempotent producer unless told otherwise.)
 *
 * The fault is real: the sink's topic is deleted after the sink opened, so
 * every write fails with UNKNOWN_TOPIC_OR_PARTITION, which Kafka calls
 * retriable. (A topic with min.insync.replicas above its replication factor
 * does not fail on a one-broker cluster: the broker caps the minimum at the
 * replica count.) The requests are counted on the real producers the drivers
 * build, through the client's own diagnostics channels: each try of a send
 * first looks the topic up (a Metadata request, which fails it here; a
 * Produce follows when the topic is there).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
// The engine's kafkajs patches before kafkajs itself: integration files share kafkajs's module cache (test/helpers/kafka.ts).
import '../../engine/kafka/kafkajs-fast-decode.ts';
import '../../engine/kafka/kafkajs-linear-grouping.ts';
import { Kafka } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import type { AnySinkDriver, SinkContext } from '../../engine/contracts/sinks.ts';
import { ChangelogDriver, CHANGELOG_SINK, ensureChangelogTopics } from '../../engine/runtime/changelog.ts';
import { DeliveryPolicy } from '../../engine/runtime/delivery-policy.ts';
import { DeliveryQueue } from '../../engine/runtime/delivery-queue.ts';
import { kafkaSink } from '../../engine/sinks/kafka-sink.ts';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { kafkaBrokers, uniqueName } from '../helpers/kafka.ts';

/** Kafka protocol API keys (the protocol's own numbers) of the requests a producer sends. */
const API_NAMES: Record<number, string> = { 0: 'Produce', 3: 'Metadata', 10: 'FindCoordinator', 18: 'ApiVersions', 22: 'InitProducerId', 24: 'AddPartitionsToTxn', 26: 'EndTxn' };
/** Requests of the producers built since countRequests(), by API name. */
const requests = new Map<string, number>();
const count = (api: string): number => requests.get(api) ?? 0;
/** Instance ids of the @platformatic/kafka producers built since countRequests(). */
const producers = new Set<number>();

const INSTANCES = 'plt:kafka:instances';
const REQUEST_STARTS = 'tracing:plt:kafka:connections:api:start';
const onInstance = (msg: unknown): void => {
  const { type, instance } = msg as { type: string; instance: { instanceId: number } };
  if (type === 'producer') producers.add(instance.instanceId);
};
const onRequest = (msg: unknown): void => {
  const { connection, apiKey } = msg as { connection: { ownerId?: number }; apiKey: number };
  if (connection.ownerId === undefined || !producers.has(connection.ownerId)) return;
  const api = API_NAMES[apiKey] ?? `api ${apiKey}`;
  requests.set(api, count(api) + 1);
};

/** Every producer built from here on reports its requests (the client's own diagnostics channels; nothing else changes). */
function countRequests(): void {
  requests.clear();
  producers.clear();
  subscribe(INSTANCES, onInstance);
  subscribe(REQUEST_STARTS, onRequest);
}

afterEach(() => {
  unsubscribe(INSTANCES, onInstance);
  unsubscribe(REQUEST_STARTS, onRequest);
});

/** A topic of its own (not the helpers' createTopic: the test deletes it itself). */
async function newTopic(brokers: string[], prefix: string): Promise<string> {
  const topic = uniqueName(prefix);
  const admin = createAdmin({ brokers, clientId: 'sluice-test-admin' });
  try {
    await admin.ensureTopic(topic, 1, undefined, { replicationFactor: 1 });
  } finally {
    await admin.close();
  }
  return topic;
}

async function deleteTopic(brokers: string[], topic: string): Promise<void> {
  const admin = new Kafka({ brokers, clientId: 'sluice-test-admin' }).admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [topic] });
    // The controller acknowledged; wait until the broker's metadata no longer lists the topic, so the
    // sink's lookups learn "unknown topic" (on a loaded machine a stale listing sent a produce instead).
    const deadline = Date.now() + 30_000;
    while ((await admin.listTopics()).includes(topic)) {
      if (Date.now() > deadline) throw new Error(`topic ${topic} still listed 30 s after its deletion`);
      await new Promise((r) => setTimeout(r, 50));
    }
  } finally {
    await admin.disconnect();
  }
}

const POLICY = { retryForMs: 2_000, backoff: { initialMs: 100, maxMs: 300 }, logEveryMs: 60_000 };

/** Pushes one epoch for `sinkId` (and the changelog's marker, if there is one) and waits until the queue gives up. */
async function deliverUntilGivenUp(sinks: Map<string, AnySinkDriver>, sinkId: string, changelog?: ChangelogDriver): Promise<{ attempts: number; error: string }> {
  let attempts = 0;
  const policy = new DeliveryPolicy(POLICY, () => {});
  const q = new DeliveryQueue('a0', 0, sinks, 0, () => {}, policy, changelog ? (s, e) => changelog.transaction(s, e) : undefined);
  const failed = new Promise<Error>((resolve) => (q.onFailed = resolve));
  q.observer = {
    delivered: () => {},
    epochDelivered: () => {},
    deliveryFailed: (id) => {
      if (id === (changelog ? CHANGELOG_SINK : sinkId)) attempts++;
    },
  };
  const records = [{ id: '0-1-0', key: 'k' as string | null, value: { n: 1 } as unknown, time: Date.now() }];
  const entries = [{ epoch: 1, sinkId, records }];
  if (changelog) {
    const marker = { token: 't', epoch: 1, positions: { 0: 1 }, at: Date.now() };
    entries.push({ epoch: 1, sinkId: CHANGELOG_SINK, records: [{ id: '0-1-1', key: null, value: { m: marker }, time: 0 }] });
  }
  q.push(1, entries);
  // Failure bound only (the policy gives up after 2 s): before, the client's own retries never returned.
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<Error>((resolve) => {
    timer = setTimeout(() => resolve(new Error(`the delivery never gave up: ${attempts} attempts, requests ${JSON.stringify([...requests])}`)), 30_000);
  });
  const err = await Promise.race([failed, bound]);
  clearTimeout(timer);
  return { attempts, error: err.message };
}

describe('Kafka sinks retry only through the delivery policy', () => {
  it("in the actor's transaction: the client tries each attempt of the policy once", async () => {
    const brokers = kafkaBrokers();
    const app = uniqueName('retries-txn');
    const topic = await newTopic(brokers, 'retries-txn-out');
    const cfg = { brokers, clientId: 'sluice-test-retries' };
    await ensureChangelogTopics(cfg, app, [], 1);
    countRequests();
    const changelog = new ChangelogDriver(cfg, app, 0);
    await changelog.open();
    const sink = kafkaSink({ topic }).create();
    const ctx: SinkContext = { job: app, sinkId: 'out', workerId: 0, runtime: { brokers, stateDir: '', outputDir: '', embedded: false, appId: app } };
    await sink.open(ctx);
    await deleteTopic(brokers, topic);
    try {
      const { attempts, error } = await deliverUntilGivenUp(new Map<string, AnySinkDriver>([['out', sink], [CHANGELOG_SINK, changelog]]), 'out', changelog);
      expect(error).toMatch(/gave up after \d+ attempts .*Unknown topic/);
      expect(attempts).toBeGreaterThanOrEqual(2);
      // Each attempt: the send's one lookup of the topic, then a new transactional producer for the
      // next attempt (changelog.ts), whose connect looks up the cluster once; plus the first producer's
      // connect. (Its InitProducerId may be retried by the client while the broker ends the aborted
      // transaction, CONCURRENT_TRANSACTIONS: coordination, not a retry of the records.)
      const tries = `${attempts} attempts of the policy, requests ${JSON.stringify([...requests])}`;
      expect(count('Metadata') + count('Produce'), tries).toBe(2 * attempts + 1);
      expect(count('InitProducerId'), tries).toBeGreaterThanOrEqual(attempts + 1);
    } finally {
      await sink.close().catch(() => {});
      await changelog.close().catch(() => {});
    }
  });

  it('without a transaction (the Kafka sink on its own producer): the client tries each attempt of the policy once', async () => {
    const brokers = kafkaBrokers();
    const topic = await newTopic(brokers, 'retries-out');
    countRequests();
    const sink = kafkaSink({ topic }).create();
    const app = uniqueName('retries');
    await sink.open({ job: app, sinkId: 'out', workerId: 0, runtime: { brokers, stateDir: '', outputDir: '', embedded: true, appId: app } });
    await deleteTopic(brokers, topic);
    try {
      const { attempts, error } = await deliverUntilGivenUp(new Map<string, AnySinkDriver>([['out', sink]]), 'out');
      expect(error).toMatch(/gave up after \d+ attempts .*Unknown topic/);
      expect(attempts).toBeGreaterThanOrEqual(2);
      // One lookup of the topic per attempt, nothing in between.
      expect(count('Metadata') + count('Produce'), `${attempts} attempts of the policy, requests ${JSON.stringify([...requests])}`).toBe(attempts);
    } finally {
      await sink.close().catch(() => {});
    }
  });
});

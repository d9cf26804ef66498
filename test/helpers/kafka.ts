/**
 * Kafka helpers for integration tests. Everything these factories create
 * cleans itself up: inside a test when the test finishes (onTestFinished),
 * elsewhere (describe body, beforeAll) when the file's tests are done.
 * Names get a unique suffix so tests never see each other's topics or groups,
 * even against a long-lived broker from SLUICE_KAFKA_BROKERS.
 *
 *   const topic = await createTopic('orders', 4);
 *   const kafka = kafkaClient();
 *   const producer = kafka.producer();  // disconnected automatically
 */
import { randomBytes } from 'node:crypto';
// The engine's patches of kafkajs, before kafkajs loads: integration files share one process
// (vitest's single fork) and kafkajs's module cache, so a file whose first import of kafkajs
// came through here would leave every later file with kafkajs unpatched (its aborted-transaction
// filter, its decoder, no last stable offset).
import '../../engine/kafka/kafkajs-fast-decode.ts';
import '../../engine/kafka/kafkajs-linear-grouping.ts';
import {
  Kafka,
  logLevel,
  Partitioners,
  type Admin,
  type AdminConfig,
  type Consumer,
  type ConsumerConfig,
  type KafkaConfig,
  type logCreator,
  type Producer,
  type ProducerConfig,
} from 'kafkajs';
import { afterAll, inject, onTestFinished } from 'vitest';
import { createAdmin } from '../../engine/kafka/admin.ts';

type Cleanup = () => Promise<void> | void;

/** Cleanups registered outside a running test; run after the file's last test. */
const fileCleanups: Cleanup[] = [];

// This module is evaluated while the test file is collected, so this hook
// belongs to the file's root suite and runs once all its tests are done.
afterAll(async () => {
  await runAll(fileCleanups.splice(0).reverse());
});

/** Runs `cleanup` when the current test finishes, or after the file if called outside a test. */
export function registerCleanup(cleanup: Cleanup): void {
  try {
    onTestFinished(async () => {
      await cleanup();
    });
  } catch {
    // onTestFinished throws when there is no current test (describe body, beforeAll).
    fileCleanups.push(cleanup);
  }
}

async function runAll(cleanups: Cleanup[]): Promise<void> {
  const errors: unknown[] = [];
  for (const cleanup of cleanups) {
    try {
      await cleanup();
    } catch (error) {
      errors.push(error);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `${errors.length} Kafka cleanup(s) failed`);
}

/** The broker the integration global setup started (or found in SLUICE_KAFKA_BROKERS). */
export function kafkaBrokers(): string[] {
  const brokers = inject('kafkaBrokers') || process.env.SLUICE_KAFKA_BROKERS;
  if (!brokers) {
    throw new Error(
      'No Kafka broker: run this file in the `integration` vitest project (test/integration/**), ' +
        'whose global setup starts one, or set SLUICE_KAFKA_BROKERS.',
    );
  }
  return brokers.split(',').map((b) => b.trim());
}

/** `prefix-<time>-<random>`: unique per call, sortable, and valid as a topic or group name. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

export interface TestKafka {
  /** The underlying kafkajs client, for anything the helpers below do not cover. */
  kafka: Kafka;
  /** An admin client, disconnected at cleanup. Call connect() yourself. */
  admin(config?: AdminConfig): Admin;
  /** A producer using the Java client's murmur2 partitioner, disconnected at cleanup. */
  producer(config?: ProducerConfig): Producer;
  /** A consumer, disconnected (leaving its group) at cleanup. */
  consumer(config: ConsumerConfig): Consumer;
}

/**
 * A kafkajs client for the test broker. Logging is WARN and up, minus the
 * retried-request noise (see testLogCreator): kafkajs' INFO output (every
 * group join) drowns the test report. KAFKAJS_LOG_LEVEL=info shows it all.
 */
export function kafkaClient(config: Partial<KafkaConfig> = {}): TestKafka {
  const kafka = new Kafka({
    clientId: 'sluice-test',
    logLevel: logLevel.WARN,
    logCreator: testLogCreator,
    ...config,
    brokers: config.brokers ?? kafkaBrokers(),
  });
  return {
    kafka,
    admin(adminConfig) {
      const admin = kafka.admin(adminConfig);
      registerCleanup(() => admin.disconnect());
      return admin;
    },
    producer(producerConfig) {
      // An explicit partitioner also silences kafkajs' "switched default
      // partitioner" warning. DefaultPartitioner is the Java-compatible one.
      const producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, ...producerConfig });
      registerCleanup(() => producer.disconnect());
      return producer;
    },
    consumer(consumerConfig) {
      const consumer = kafka.consumer(consumerConfig);
      registerCleanup(() => consumer.disconnect());
      return consumer;
    },
  };
}

/**
 * Creates `<name>-<unique suffix>` with the given partition count, waits until
 * every partition has a leader, and deletes the topic at cleanup. Returns the
 * full topic name.
 */
export async function createTopic(name: string, partitions = 4, configEntries: Record<string, string> = {}): Promise<string> {
  const topic = uniqueName(name);
  const kafka = new Kafka({
    clientId: 'sluice-test-admin',
    brokers: kafkaBrokers(),
    logLevel: logLevel.WARN,
    logCreator: testLogCreator,
  });
  // The engine's ensureTopic: it creates the topic, then waits until every
  // partition has a leader that serves it (a busy broker takes a while).
  const admin = createAdmin({ brokers: kafkaBrokers(), clientId: 'sluice-test-admin' });
  try {
    // Its "created" answer can be false for a topic this call did create (a
    // timed-out request retried into TOPIC_ALREADY_EXISTS); the name is unique anyway.
    await admin.ensureTopic(topic, partitions, configEntries, { replicationFactor: 1 });
  } finally {
    await admin.close();
  }
  registerCleanup(async () => {
    const cleanupAdmin = kafka.admin();
    await cleanupAdmin.connect();
    try {
      await cleanupAdmin.deleteTopics({ topics: [topic] });
    } finally {
      await cleanupAdmin.disconnect();
    }
  });
  return topic;
}

/**
 * kafkajs logs every error response at ERROR, including the retriable ones it
 * retries by itself (coordinator still loading, CONCURRENT_TRANSACTIONS right
 * after a commit). Those are noise: if the retries run out, the promise the
 * test awaits rejects with the error. We drop them and print the rest in
 * kafkajs' usual JSON format. KAFKAJS_LOG_LEVEL=info|debug (read by kafkajs
 * itself) turns the filter off and shows everything.
 */
const testLogCreator: logCreator = () => ({ namespace, level, label, log }) => {
  const { message, ...extra } = log;
  if (!process.env.KAFKAJS_LOG_LEVEL) {
    const retriedResponse = namespace === 'Connection' && message.startsWith('Response ');
    if (retriedResponse || 'retryCount' in extra) return;
  }
  const line = JSON.stringify({ level: label, ...extra, message: namespace ? `[${namespace}] ${message}` : message });
  if (level === logLevel.ERROR) console.error(line);
  else if (level === logLevel.WARN) console.warn(line);
  else console.log(line);
};

export interface ReadRecord {
  partition: number;
  offset: number;
  key: string | null;
  value: Buffer | null;
}

/**
 * Reads every committed record of `topic` from `from` (per partition; default
 * the beginning) up to the end offsets found at the call. Transactional
 * topics end in commit markers that no message carries, so progress is
 * tracked by kafkajs' END_BATCH_PROCESS events, which control-only batches
 * fire too (as engine/kafka/partition-reader.ts does).
 */
export async function readToEnd(topic: string, from: Map<number, number> = new Map(), timeoutMs = 60_000): Promise<ReadRecord[]> {
  const client = kafkaClient();
  const admin = client.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const ends = new Map(offsets.map((o) => [o.partition, Number(o.high)]));
  const pending = new Set(offsets.filter((o) => Number(o.high) > Math.max(Number(o.low), from.get(o.partition) ?? 0)).map((o) => o.partition));
  const out: ReadRecord[] = [];
  if (pending.size === 0) return out;
  const consumer = client.consumer({ groupId: uniqueName(`read-${topic}`), maxWaitTimeInMs: 100 });
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`reading ${topic}: ${out.length} records, partitions ${[...pending].join(', ')} not at their end after ${timeoutMs} ms`)), timeoutMs);
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        if (Number(e.payload.lastOffset) + 1 >= ends.get(e.payload.partition)!) pending.delete(e.payload.partition);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      void consumer
        .subscribe({ topic, fromBeginning: true })
        .then(() =>
          consumer.run({
            eachMessage: async ({ partition, message }) => {
              const offset = Number(message.offset);
              if (offset < (from.get(partition) ?? 0)) return;
              out.push({ partition, offset, key: message.key?.toString() ?? null, value: message.value });
            },
          }),
        )
        .catch((err: Error) => {
          clearTimeout(timer);
          reject(err);
        });
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}

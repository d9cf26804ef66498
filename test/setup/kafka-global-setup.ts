/**
 * Global setup of the `integration` vitest project: one Kafka broker for the
 * whole run. Tests read its address with `inject('kafkaBrokers')` (or from
 * process.env.SLUICE_KAFKA_BROKERS, for code that reads config from the
 * environment); test/helpers/kafka.ts wraps both.
 *
 * Set SLUICE_KAFKA_BROKERS to use a broker that is already running (e.g. one
 * from `npm run kafka -- start`); it is then neither started nor stopped here.
 */
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import type { TestProject } from 'vitest/node';
import { waitForBroker } from '../../engine/dev/servers/kafka-probe.ts';
import { startKafka, type KafkaBroker } from '../../engine/dev/servers/kafka.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Bootstrap address of the test broker, e.g. `127.0.0.1:9092` (comma-separated if several). */
    kafkaBrokers: string;
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let broker: KafkaBroker | undefined;
  let brokers = process.env.SLUICE_KAFKA_BROKERS?.trim();
  if (brokers) {
    // A broker named by the environment must answer: falling back to starting
    // our own would hide a misconfiguration, and skipping would hide the suite.
    const probe = await waitForBroker(brokers, { timeoutMs: 15_000 });
    if (!probe.ok) {
      throw new Error(
        `SLUICE_KAFKA_BROKERS=${brokers} does not answer a metadata request (${probe.reason ?? 'no reason'}). ` +
          'Start it (`npm run kafka -- start`) or unset SLUICE_KAFKA_BROKERS to let the tests start their own broker.',
      );
    }
    console.log(`[kafka] using the broker at ${brokers} from SLUICE_KAFKA_BROKERS`);
  } else {
    broker = await startKafka();
    brokers = broker.brokers;
  }

  await warmUpCoordinators(brokers);
  project.provide('kafkaBrokers', brokers);
  // Test workers are forked after global setup, so they inherit this.
  process.env.SLUICE_KAFKA_BROKERS = brokers;

  return async () => {
    if (!broker) return;
    await broker.stop();
    delete process.env.SLUICE_KAFKA_BROKERS;
  };
}

/**
 * Kafka creates __consumer_offsets on the first group lookup and
 * __transaction_state on the first transactional producer, and answers
 * "coordinator not available" until they are loaded. Doing both once here
 * keeps that first-use delay (and kafkajs' retry noise) out of whichever test
 * happens to run first.
 */
async function warmUpCoordinators(brokers: string): Promise<void> {
  const started = Date.now();
  const kafka = new Kafka({
    clientId: 'sluice-warmup',
    brokers: brokers.split(','),
    // The retries below are expected; do not log them (even with KAFKAJS_LOG_LEVEL set).
    logLevel: logLevel.NOTHING,
    logCreator: () => () => {},
  });
  const admin = kafka.admin();
  const producer = kafka.producer({
    transactionalId: 'sluice-warmup',
    idempotent: true,
    maxInFlightRequests: 1,
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  try {
    await admin.connect();
    await admin.describeGroups(['sluice-warmup']);
    await producer.connect();
  } finally {
    await producer.disconnect();
    await admin.disconnect();
  }
  console.log(`[kafka] group and transaction coordinators ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

/**
 * "Is the broker up?" means: it answers a metadata request and lists at least
 * one live broker. An open port is not enough, since Kafka binds its listeners
 * before the KRaft controller has elected itself and the broker has
 * registered, and requests made in that window fail.
 */
import '../../kafka/kafkajs-fast-decode.ts'; // before kafkajs loads (engine/kafka/kafkajs-fast-decode.ts)
import { Kafka, logLevel } from 'kafkajs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ProbeResult {
  ok: boolean;
  /** Why the last attempt failed, for error messages. */
  reason?: string;
  brokerCount?: number;
}

/** One metadata round trip, no retries; never throws. */
export async function probeBroker(brokers: string, timeoutMs = 5_000): Promise<ProbeResult> {
  const kafka = new Kafka({
    clientId: 'sluice-probe',
    brokers: brokers.split(','),
    // Refused connections are the normal state while the JVM starts; kafkajs
    // would log each one as an error. A no-op logCreator also wins over the
    // KAFKAJS_LOG_LEVEL environment variable, which is meant for the tests.
    logLevel: logLevel.NOTHING,
    logCreator: () => () => {},
    connectionTimeout: Math.min(timeoutMs, 3_000),
    requestTimeout: timeoutMs,
    retry: { retries: 0 },
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
    const cluster = await admin.describeCluster();
    await admin.fetchTopicMetadata();
    if (cluster.brokers.length === 0) return { ok: false, reason: 'metadata lists no live brokers yet' };
    return { ok: true, brokerCount: cluster.brokers.length };
  } catch (error) {
    return { ok: false, reason: error instanceof Error ? error.message : String(error) };
  } finally {
    await admin.disconnect().catch(() => {});
  }
}

export interface WaitOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** Called between attempts; return a reason to give up early (e.g. the process died). */
  abort?: () => string | undefined;
}

/** Probes until the broker answers or the deadline passes. */
export async function waitForBroker(brokers: string, options: WaitOptions): Promise<ProbeResult> {
  const deadline = Date.now() + options.timeoutMs;
  let last: ProbeResult = { ok: false, reason: 'not probed yet' };
  while (Date.now() < deadline) {
    const aborted = options.abort?.();
    if (aborted) return { ok: false, reason: aborted };
    last = await probeBroker(brokers, Math.max(1_000, Math.min(5_000, deadline - Date.now())));
    if (last.ok) return last;
    await sleep(options.intervalMs ?? 250);
  }
  return last;
}

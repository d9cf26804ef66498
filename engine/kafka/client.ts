/**
 * The one place that turns our KafkaClientConfig into a kafkajs `Kafka`, and
 * kafkajs errors into SluiceErrors. Each consumer, producer and admin gets its
 * own `Kafka` (and so its own connections and metadata cache): the consumer
 * patches its cluster's coordinator connection (see coordinator-hooks.ts) and
 * that must not leak into anything else.
 */
import './kafkajs-fast-decode.ts'; // before kafkajs loads (see there)
import './kafkajs-linear-grouping.ts'; // before kafkajs loads (see there)
import './timeout-negative-warning.ts'; // drops kafkajs' harmless negative-timer warning on Node 24 (see there)
import { Kafka, type KafkaConfig, type SASLOptions } from 'kafkajs';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { createLogCreator, resolveLogLevel } from './log-creator.ts';
import type { KafkaClientConfig } from './types.ts';

export function createKafka(cfg: KafkaClientConfig, role: string): Kafka {
  if (!Array.isArray(cfg.brokers) || cfg.brokers.length === 0) {
    throw new SluiceError(ErrorCodes.CONFIG, 'Kafka config needs at least one broker');
  }
  const level = resolveLogLevel(cfg.logLevel);
  const config: KafkaConfig = {
    brokers: cfg.brokers,
    clientId: role ? `${cfg.clientId}-${role}` : cfg.clientId,
    ssl: cfg.ssl,
    sasl: cfg.sasl as SASLOptions | undefined,
    connectionTimeout: cfg.connectionTimeoutMs ?? 3_000,
    requestTimeout: cfg.requestTimeoutMs ?? 30_000,
    logLevel: level,
    logCreator: createLogCreator(level),
    retry: {
      retries: cfg.retry?.retries ?? 8,
      initialRetryTime: cfg.retry?.initialRetryTimeMs ?? 100,
      maxRetryTime: cfg.retry?.maxRetryTimeMs ?? 10_000,
    },
  };
  return new Kafka(config);
}

interface MaybeKafkaError {
  name?: string;
  message?: string;
  retriable?: boolean;
  type?: string;
}

/** Wraps a kafkajs error, keeping it as the cause; kafkajs' own `retriable` flag becomes ours. */
export function toKafkaError(err: unknown, context: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as MaybeKafkaError;
  const detail = e.message ?? String(err);
  const type = e.type ? ` [${e.type}]` : '';
  return new SluiceError(ErrorCodes.KAFKA, `${context}: ${detail}${type}`, {
    retryable: e.retriable === true || e.name === 'KafkaJSNumberOfRetriesExceeded',
    cause: err,
  });
}

/**
 * Broker answers that blame the records, not the cluster: retrying the same
 * records cannot help (a record over the broker's message.max.bytes, say).
 * Anything else from a produce (a broker down, a timeout, a leader moving) is
 * a fault of the infrastructure, worth retrying, whatever kafkajs' own flag
 * says after its internal retries ran out.
 */
const RECORD_FAULTS = /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|INVALID_RECORD|CORRUPT_MESSAGE|INVALID_TIMESTAMP/;

export function isRecordFault(err: unknown, depth = 0): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as MaybeKafkaError & { cause?: unknown; originalError?: unknown };
  if (RECORD_FAULTS.test(`${e.type ?? ''} ${e.message ?? ''}`)) return true;
  return isRecordFault(e.cause, depth + 1) || isRecordFault(e.originalError, depth + 1);
}

/**
 * The one place that turns our KafkaClientConfig into a kafkajs `Kafka`, and
 * the clients' errors (kafkajs for the consumer and admin, @platformatic/kafka
 * for the producer, producer.ts) into SluiceErrors. Each consumer and admin
 * gets its own `Kafka` (and so its own connections and metadata cache): the
 * consumer patches its cluster's coordinator connection (see
 * coordinator-hooks.ts) and that must not leak into anything else.
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
  /** kafkajs */
  retriable?: boolean;
  type?: string;
  /** @platformatic/kafka: PLT_KFK_* on its own errors */
  code?: string;
  /** @platformatic/kafka: the protocol error's name (MESSAGE_TOO_LARGE, PRODUCER_FENCED, ...) */
  apiId?: string;
  cause?: unknown;
  originalError?: unknown;
  /** @platformatic/kafka's MultipleErrors (a response with errors, retries that ran out) */
  errors?: unknown[];
}

/**
 * Every protocol error name in an error, looking through the wrappers both
 * clients use: kafkajs' `type` and `originalError`, @platformatic/kafka's
 * `apiId` and `errors` (one per failed partition or attempt), and `cause`.
 */
export function kafkaErrorTypes(err: unknown, out: string[] = [], depth = 0): string[] {
  if (typeof err !== 'object' || err === null || depth > 6) return out;
  const e = err as MaybeKafkaError;
  for (const t of [e.type, e.apiId]) if (typeof t === 'string' && t !== '' && !out.includes(t)) out.push(t);
  kafkaErrorTypes(e.cause, out, depth + 1);
  kafkaErrorTypes(e.originalError, out, depth + 1);
  if (Array.isArray(e.errors)) for (const inner of e.errors) kafkaErrorTypes(inner, out, depth + 1);
  return out;
}

/** A @platformatic/kafka error (its codes all start PLT_KFK_). */
function isPlatformaticError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && typeof (err as MaybeKafkaError).code === 'string' && (err as MaybeKafkaError).code!.startsWith('PLT_KFK_');
}

/**
 * Answers no retry can change: the cluster refuses who we are (fenced, not
 * authorized) or what we speak. Everything else from a @platformatic/kafka
 * producer (a broker down, a timeout, a leader moving, a coordinator
 * loading) is the infrastructure's, worth a retry by the delivery policy.
 */
const PERMANENT = /FENCED|INVALID_PRODUCER_EPOCH|AUTHORIZATION|AUTHENTICATION|UNSUPPORTED/;

/**
 * Wraps a client error, keeping it as the cause. kafkajs' own `retriable`
 * flag becomes ours; a @platformatic/kafka error is retryable unless it is a
 * record fault or permanent (above). The message names the protocol errors.
 */
export function toKafkaError(err: unknown, context: string): SluiceError {
  if (err instanceof SluiceError) return err;
  const e = (typeof err === 'object' && err !== null ? err : {}) as MaybeKafkaError;
  const detail = e.message ?? String(err);
  const types = kafkaErrorTypes(err);
  const type = types.length > 0 ? ` [${types.join(', ')}]` : '';
  const retryable = isPlatformaticError(err)
    ? !isRecordFault(err) && !PERMANENT.test(`${types.join(' ')} ${e.code}`)
    : e.retriable === true || e.name === 'KafkaJSNumberOfRetriesExceeded';
  return new SluiceError(ErrorCodes.KAFKA, `${context}: ${detail}${type}`, { retryable, cause: err });
}

/**
 * Broker answers that blame the records, not the cluster: retrying the same
 * records cannot help (a record over the broker's message.max.bytes, say).
 * Anything else from a produce (a broker down, a timeout, a leader moving) is
 * a fault of the infrastructure, worth retrying, whatever the client's own
 * flag says.
 */
const RECORD_FAULTS = /MESSAGE_TOO_LARGE|RECORD_LIST_TOO_LARGE|INVALID_RECORD|CORRUPT_MESSAGE|INVALID_TIMESTAMP/;

export function isRecordFault(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  return RECORD_FAULTS.test(`${kafkaErrorTypes(err).join(' ')} ${(err as MaybeKafkaError).message ?? ''}`);
}

/**
 * Another producer with the same transactional id took over (Kafka answers
 * PRODUCER_FENCED, or INVALID_PRODUCER_EPOCH to an older request version):
 * this one can never write again, and the partition belongs to someone else.
 */
const FENCED = /PRODUCER_FENCED|INVALID_PRODUCER_EPOCH/;

export function isFenced(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as MaybeKafkaError;
  return FENCED.test(`${kafkaErrorTypes(err).join(' ')} ${e.message ?? ''}`) || /fenced/i.test(e.message ?? '');
}

/**
 * The @platformatic/kafka client behind the engine's producer (producer.ts):
 * its options, and the two changes to its behaviour: it never retries the
 * requests that carry or locate records (producer.ts, "Retries"), and its
 * Produce requests are encoded by produce-request.ts.
 *
 * A module of its own so that it loads only where a producer connects:
 * loading the client costs about 0.45 s of CPU (it compiles its option
 * validators when it loads), which a thread that never produces (the main
 * thread of a job, `sluice status`) should not pay.
 */
import { compatibilityPartitioner, kGetApi, kMetadata, kOptions, kPerformWithRetry, Producer as PltProducer, type ProducerOptions as PltProducerOptions } from '@platformatic/kafka';
import { kafkaErrorTypes } from './client.ts';
import { fastProduceApi } from './produce-request.ts';
import type { KafkaClientConfig, ProducerOptions } from './types.ts';

/** The delay before the client's retry `attempt` (1-based) of a request around records. */
function retryDelayFor(cfg: KafkaClientConfig): (client: unknown, operation: string, attempt: number, retries: number, error: Error) => number {
  const initial = cfg.retry?.initialRetryTimeMs ?? 100;
  const max = cfg.retry?.maxRetryTimeMs ?? 10_000;
  return (_client, _operation, attempt, _retries, error) => {
    // The previous transaction's markers are being written: usually a few ms (the Java client waits
    // 20 ms). The first retries are quick; then the usual backoff, so that a slow broker (a loaded
    // machine, an old owner's transaction being aborted at connect) gets the whole retry budget.
    if (attempt <= 3 && kafkaErrorTypes(error).includes('CONCURRENT_TRANSACTIONS')) return 20;
    return Math.min(max, initial * 2 ** (attempt - 1));
  };
}

type PerformWithRetry = PltProducer[typeof kPerformWithRetry];
type Metadata = PltProducer[typeof kMetadata];
type GetApi = PltProducer[typeof kGetApi];

/**
 * The client with the records' requests never retried (see the header): the
 * Produce request, and the metadata lookup of the records' topics (a send's
 * first step; the lookups around records ask for no topic). Everything else
 * keeps its bounded retries. `recordRetries` lets the client retry those too,
 * for a producer outside the delivery path (ProducerOptions.kafkaRetries).
 */
export class EngineProducer extends PltProducer {
  constructor(options: PltProducerOptions<Buffer, Buffer, Buffer, Buffer>, retries: number, recordRetries: boolean) {
    super(options);
    // The client raises an idempotent producer's retries below 2 to "forever"; ours stay bounded.
    this[kOptions].retries = retries;
    if (recordRetries) {
      this[kPerformWithRetry] = super[kPerformWithRetry];
      this[kMetadata] = super[kMetadata];
    }
  }

  override [kPerformWithRetry]: PerformWithRetry = (operationId, operation, callback, attempt, errors, shouldSkipRetry, retryLimit) =>
    super[kPerformWithRetry](operationId, operation, callback, attempt, errors, shouldSkipRetry, operationId === 'produce' ? 0 : retryLimit);

  override [kMetadata]: Metadata = (options, callback) =>
    super[kMetadata](options.topics !== undefined && options.topics.length > 0 ? { ...options, retries: 0 } : options, callback);

  /** The Produce request is encoded by produce-request.ts (same bytes, a fraction of the CPU); every other API is the client's. */
  override [kGetApi]: GetApi = (name, callback) => {
    if (name !== 'Produce') return super[kGetApi](name, callback);
    super[kGetApi](name, ((error: Error | null, api?: { version: number }) => {
      if (error) callback(error);
      else callback(null, (fastProduceApi(api!.version) ?? api) as never);
    }) as typeof callback);
  };
}

export function createClient(cfg: KafkaClientConfig, opts: ProducerOptions, idempotent: boolean): EngineProducer {
  const options: PltProducerOptions<Buffer, Buffer, Buffer, Buffer> = {
    clientId: `${cfg.clientId}-producer`,
    bootstrapBrokers: cfg.brokers,
    connectTimeout: cfg.connectionTimeoutMs ?? 3_000,
    // Also the transaction timeout the client registers with InitProducerId.
    timeout: cfg.requestTimeoutMs ?? 30_000,
    retryDelay: retryDelayFor(cfg),
    idempotent,
    // What InitProducerId asks for: -1/-1 is "a new session" (the client's default, 0/0, reads to the
    // broker as resuming producer 0, and an existing transactional id answers PRODUCER_FENCED).
    producerId: -1n,
    producerEpoch: -1,
    acks: -1,
    autocreateTopics: false,
    repeatOnStaleMetadata: false,
    // Java's (and kafkajs') murmur2 partitioner: records of a key land where other clients put them.
    partitioner: compatibilityPartitioner,
  };
  if (opts.transactionalId) options.transactionalId = opts.transactionalId;
  if (cfg.ssl) options.tls = {};
  if (cfg.sasl) options.sasl = { mechanism: cfg.sasl.mechanism.toUpperCase() as 'PLAIN', username: cfg.sasl.username, password: cfg.sasl.password };
  return new EngineProducer(options, cfg.retry?.retries ?? 8, opts.kafkaRetries === true);
}

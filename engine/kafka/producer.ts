/**
 * The engine's producer on top of @platformatic/kafka (the consumer and the
 * admin stay on kafkajs): acks=-1 always, idempotent or transactional on
 * request. On the engine's records it spends about a fifth less CPU per
 * record than kafkajs did (bench/notes/35-producer.md).
 *
 * Sends are coalesced: a send issued while a request is in flight joins the
 * next request, and sends issued in the same event-loop turn share one. Only
 * one request is in flight at a time, which keeps records in submission order
 * per partition (an idempotent producer needs that anyway: the client forces
 * maxInflights 1). If a request fails, every send in it rejects; the broker
 * may have written some of its partitions, so a retry can duplicate unless
 * the consumer side is idempotent. After a failed send the client drops an
 * idempotent producer's id and sequence numbers, and the next send gets a new
 * id (callers may also make a new producer, as the sinks do).
 *
 * With a transactionalId each request group is one Kafka transaction: a send
 * is never split across transactions, so its records become visible to
 * read_committed consumers together or not at all. connect() fences the
 * previous producer of the same id, as Kafka's initTransactions() does.
 *
 * Retries. The engine's delivery policy (runtime/delivery-policy.ts) is the
 * one retry loop for records, so one attempt of the policy is one try of the
 * write: the client's retries are off for the Produce request and for the
 * lookup of the records' topics (producer-client.ts), and it does not
 * repeat a send on stale metadata. (One exception stays inside the
 * client: a non-transactional idempotent send the broker refused because it
 * forgot the producer id, UNKNOWN_PRODUCER_ID, is sent once more under a new
 * id; nothing of it was written.) The requests around records are
 * retried by the client, a bounded number of times (`retry` of the config):
 * connecting, finding the transaction coordinator, InitProducerId,
 * AddPartitionsToTxn, EndTxn. They carry no records, and some of their
 * "errors" are the protocol asking to wait: after every commit the broker
 * answers CONCURRENT_TRANSACTIONS to the next transaction until it has
 * written the commit markers (a few ms), and a fresh cluster answers
 * COORDINATOR_NOT_AVAILABLE until its transaction log is loaded. Failing the
 * whole delivery for those would put a 200 ms backoff and a new producer
 * after every checkpoint.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';
import { isFenced, toKafkaError } from './client.ts';
import type { EngineProducer } from './producer-client.ts';
import { DEFAULT_MAX_REQUEST_BYTES, eachChunk, sendBytes, sendRecords, toMessages, type SendRecords } from './produce-batches.ts';
import type { KafkaClientConfig, Producer, ProducerOptions } from './types.ts';

interface PendingSend {
  records: SendRecords;
  resolve(): void;
  reject(err: Error): void;
}

export function createProducer(cfg: KafkaClientConfig, opts: ProducerOptions = {}): Producer {
  const transactional = Boolean(opts.transactionalId);
  const idempotent = transactional || opts.idempotent === true;
  if (!Array.isArray(cfg.brokers) || cfg.brokers.length === 0) {
    throw new SluiceError(ErrorCodes.CONFIG, 'Kafka config needs at least one broker');
  }
  /** Made by connect(): the client loads there (producer-client.ts). */
  let producer!: EngineProducer;

  let connected = false;
  /**
   * Why this transactional producer sends no more. Fenced: the broker said
   * another producer took our transactional id, and the client would answer
   * a later beginTransaction() with a new InitProducerId, which would fence
   * the new owner in turn (and abort its transaction). Or a failed
   * transaction that could not be aborted: the broker may still hold it open
   * under our epoch, and the next transaction would join it, committing the
   * failed records with the next ones. The caller makes a new producer (its
   * connect() ends that transaction), as ChangelogDriver does after a failure.
   */
  let brokenBy: SluiceError | undefined;
  let queue: PendingSend[] = [];
  let draining: Promise<void> | null = null;

  async function write(sends: readonly SendRecords[]): Promise<void> {
    // Requests are made one at a time: lazy records exist a request at a time.
    const chunks = eachChunk(sendRecords(sends), DEFAULT_MAX_REQUEST_BYTES);
    if (!transactional) {
      for (const chunk of chunks) await producer.send({ messages: toMessages(chunk), acks: -1 });
      return;
    }
    if (brokenBy) throw brokenBy;
    const txn = await producer.beginTransaction();
    try {
      for (const chunk of chunks) await txn.send({ messages: toMessages(chunk) });
      await txn.commit();
    } catch (err) {
      if (isFenced(err)) {
        brokenBy = toKafkaError(err, 'send failed (fenced: another producer has this transactional id now)');
        await txn.cancel().catch(() => {});
        throw brokenBy;
      }
      try {
        await txn.abort();
      } catch (abortErr) {
        // Dropped locally only; the producer is done (above).
        await txn.cancel().catch(() => {});
        brokenBy = new SluiceError(ErrorCodes.KAFKA, `transaction could not be aborted after a failed send; the producer must be replaced: ${(abortErr as Error).message}`, {
          retryable: true,
          cause: abortErr,
        });
      }
      throw err;
    }
  }

  /** Takes whole sends from the queue up to about one request's worth (always at least one send). */
  function takeGroup(): PendingSend[] {
    let size = 0;
    let n = 0;
    while (n < queue.length) {
      const bytes = sendBytes(queue[n].records);
      if (n > 0 && size + bytes > DEFAULT_MAX_REQUEST_BYTES) break;
      size += bytes;
      n++;
    }
    const group = queue.slice(0, n);
    queue = queue.slice(n);
    return group;
  }

  /** Never rejects: each group's outcome goes to its sends. */
  async function drain(): Promise<void> {
    // Let the rest of this event-loop turn add its sends to the first request.
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (queue.length > 0) {
      const group = takeGroup();
      try {
        await write(group.map((p) => p.records));
        for (const p of group) p.resolve();
      } catch (err) {
        const e = toKafkaError(err, 'send failed');
        for (const p of group) p.reject(e);
      }
    }
  }

  function schedule(): void {
    if (draining) return;
    draining = drain().finally(() => {
      draining = null;
      if (queue.length > 0) schedule();
    });
  }

  return {
    async connect() {
      try {
        producer ??= (await import('./producer-client.ts')).createClient(cfg, opts, idempotent);
        if (transactional) {
          // A transactional producer registers its id now, not at its first send: InitProducerId
          // fences any older producer with the same id and makes the broker finish that one's
          // transaction in flight (abort, or complete a commit already asked for). Whatever the
          // caller reads next (the newest checkpoint marker, changelog.ts) is then final. The
          // client registers on its first beginTransaction(); cancelling it sends nothing.
          await (await producer.beginTransaction()).cancel();
        } else if (idempotent) {
          await producer.initIdempotentProducer({});
        } else {
          // Reaches a broker now, as kafkajs' connect() did: an unreachable cluster fails here.
          await producer.metadata({ topics: [] });
        }
        connected = true;
      } catch (err) {
        throw toKafkaError(err, 'producer failed to connect');
      }
    },

    send(records) {
      if (!connected) return Promise.reject(new SluiceError(ErrorCodes.ILLEGAL_STATE, 'producer is not connected'));
      if (Array.isArray(records) ? records.length === 0 : records.bytes === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        queue.push({ records, resolve, reject });
        schedule();
      });
    },

    async flush() {
      while (draining) await draining;
    },

    async disconnect() {
      while (draining) await draining;
      connected = false;
      try {
        await producer?.close();
      } catch (err) {
        throw toKafkaError(err, 'producer failed to disconnect');
      }
    },
  };
}

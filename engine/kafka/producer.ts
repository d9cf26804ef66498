/**
 * The engine's producer on top of kafkajs: acks=-1 always, idempotent or
 * transactional on request.
 *
 * Sends are coalesced: a send issued while a request is in flight joins the
 * next request, and sends issued in the same event-loop turn share one. Only
 * one request is in flight at a time, which keeps records in submission order
 * per partition (an idempotent kafkajs producer needs that anyway:
 * maxInFlightRequests 1). If a request fails, every send in it rejects; the
 * broker may have written some of its partitions, so a retry can duplicate
 * unless the consumer side is idempotent. After a failed send, disconnect
 * the producer and create a new one before sending again (a transactional
 * one must re-register its id; the sinks do this).
 *
 * One request per attempt: kafkajs does not retry a produce itself. The
 * delivery policy (runtime/delivery-policy.ts) is the only retry loop of the
 * sinks, the repartition sink and the changelog, with one backoff and one
 * budget (issue 16: kafkajs' own loop ran inside it, up to 8 retries, and
 * without end for an idempotent producer, whose kafkajs default is
 * Number.MAX_SAFE_INTEGER retries). So the kafkajs producer is never built
 * idempotent (kafkajs refuses an idempotent producer without retries):
 * idempotence only lets the broker drop kafkajs' own resends of a request,
 * and there are none; a retry of the policy is a new producer anyway.
 * `idempotent` still means what callers rely on: acks=-1, one request in
 * flight, records in order per partition. What kafkajs still retries is
 * below the records: connecting, metadata, finding the transaction
 * coordinator, and InitProducerId, which must wait out CONCURRENT_TRANSACTIONS
 * while the broker ends a fenced producer's transaction (the client's retry
 * settings, client.ts). A transaction's commit and abort are single requests.
 *
 * With a transactionalId each request group is one Kafka transaction: a send
 * is never split across transactions, so its records become visible to
 * read_committed consumers together or not at all. connect() fences the
 * previous producer of the same id, as Kafka's initTransactions() does.
 */
import './kafkajs-linear-grouping.ts'; // before kafkajs loads (see there)
import { Partitioners, type Producer as KafkaJsProducer } from 'kafkajs';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { createKafka, toKafkaError } from './client.ts';
import { chunkRecords, DEFAULT_MAX_REQUEST_BYTES, estimateRecordBytes, toTopicMessages } from './produce-batches.ts';
import type { KafkaClientConfig, Producer, ProducerOptions, ProducerRecord } from './types.ts';

interface PendingSend {
  records: ProducerRecord[];
  resolve(): void;
  reject(err: Error): void;
}

export function createProducer(cfg: KafkaClientConfig, opts: ProducerOptions = {}): Producer {
  const transactional = Boolean(opts.transactionalId);
  const kafka = createKafka(cfg, 'producer');
  const producer: KafkaJsProducer = kafka.producer({
    // Passing the partitioner explicitly also silences kafkajs' v2 partitioner warning.
    createPartitioner: Partitioners.DefaultPartitioner,
    // Never kafkajs-idempotent: see the header (a transaction's sends are idempotent all the same).
    idempotent: false,
    transactionalId: opts.transactionalId,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // The delivery policy retries; kafkajs sends each request once (header). `retries` is kafkajs'
    // count of retries after the first try. Producers outside the delivery path may keep kafkajs' own.
    retry: opts.kafkaRetries === true ? undefined : { retries: 0 },
  });

  let connected = false;
  let queue: PendingSend[] = [];
  let draining: Promise<void> | null = null;

  async function write(records: ProducerRecord[]): Promise<void> {
    const chunks = chunkRecords(records, DEFAULT_MAX_REQUEST_BYTES);
    if (!transactional) {
      for (const chunk of chunks) await producer.sendBatch({ topicMessages: toTopicMessages(chunk), acks: -1 });
      return;
    }
    const txn = await producer.transaction();
    try {
      for (const chunk of chunks) await txn.sendBatch({ topicMessages: toTopicMessages(chunk), acks: -1 });
      await txn.commit();
    } catch (err) {
      await txn.abort().catch(() => {});
      throw err;
    }
  }

  /** Takes whole sends from the queue up to about one request's worth (always at least one send). */
  function takeGroup(): PendingSend[] {
    let size = 0;
    let n = 0;
    while (n < queue.length) {
      const bytes = queue[n].records.reduce((sum, r) => sum + estimateRecordBytes(r), 0);
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
        await write(group.flatMap((p) => p.records));
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
        await producer.connect();
        // A transactional producer registers its id now, not at its first send: InitProducerId
        // fences any older producer with the same id and makes the broker finish that one's
        // transaction in flight (abort, or complete a commit already asked for). Whatever the
        // caller reads next (the newest checkpoint marker, changelog.ts) is then final. kafkajs
        // registers on the first transaction(); ending it empty sends no request.
        if (transactional) await (await producer.transaction()).abort();
        connected = true;
      } catch (err) {
        throw toKafkaError(err, 'producer failed to connect');
      }
    },

    send(records) {
      if (!connected) return Promise.reject(new SluiceError(ErrorCodes.ILLEGAL_STATE, 'producer is not connected'));
      if (records.length === 0) return Promise.resolve();
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
        await producer.disconnect();
      } catch (err) {
        throw toKafkaError(err, 'producer failed to disconnect');
      }
    },
  };
}

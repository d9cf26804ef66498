/**
 * Kafka sink.
 *
 * Guarantee: exactly-once for read_committed readers. The sink is two-phase
 * (contracts/sinks.ts): prepare() encodes an epoch's records and adds them to
 * the partition actor's Kafka transaction, which the runtime commits with the
 * epoch's changelog and checkpoint marker once every other sink has the
 * epoch; an epoch whose marker is already in Kafka is not sent again after a
 * crash (engine/runtime/changelog.ts). commit() has nothing left to do then.
 *
 * Without an actor's transaction (a caller outside a job run), prepare()
 * keeps the records and commit() sends them with the idempotent producer:
 * at-least-once. Every record carries a header `sluice-id` =
 * `<application id>/<partition>-<epoch>-<seq>`, deterministic across
 * redeliveries and distinct between deployments (two groups running the same
 * job write the same epochs), so a reader can still drop duplicates by id;
 * keyed output on a compacted topic is an
 * upsert stream and exact either way.
 *
 * Records without a key go to partition (source partition mod topic
 * partitions), which keeps a source partition's output in order.
 */
import type { EpochTransaction, SinkContext, SinkDelivery, SinkEpoch, SinkSpec, TwoPhaseSinkDriver } from '../contracts/sinks.ts';
import type { ValueCodec } from '../contracts/sources.ts';
import { createAdmin } from '../kafka/admin.ts';
import { isRecordFault } from '../kafka/client.ts';
import { createProducer } from '../kafka/producer.ts';
import type { Producer, ProducerRecord } from '../kafka/types.ts';
import { resolveCodec, type Codec } from '../sources/codecs.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

export interface KafkaSinkOptions {
  topic: string;
  codec?: ValueCodec;
  /** Derives the record key from the value; default: the key the record was emitted with. */
  key?: (value: unknown) => string | null;
  /** Partitions if the sink creates the topic. Default 4. */
  partitions?: number;
  /** Create the topic with cleanup.policy=compact (for upsert/changelog output). */
  compact?: boolean;
}

class KafkaSinkDriver implements TwoPhaseSinkDriver {
  private producer!: Producer;
  private codec!: Codec;
  private partitions = 1;
  private idPrefix = '';
  /** Prepared epochs of a run without an actor's transaction, by `<actor>:<epoch>`. */
  private readonly pending = new Map<string, ProducerRecord[]>();

  constructor(private readonly o: KafkaSinkOptions) {}

  async open(ctx: SinkContext): Promise<void> {
    if (ctx.runtime.brokers.length === 0) {
      throw new SluiceError(ErrorCodes.CONFIG, `kafka sink "${ctx.sinkId}": no brokers configured (--brokers)`);
    }
    this.codec = resolveCodec(this.o.codec ?? 'json');
    this.idPrefix = `${ctx.runtime.appId ?? ctx.job}/`;
    const cfg = { brokers: ctx.runtime.brokers, clientId: `sluice-${ctx.job}-sink-${ctx.workerId}` };
    const admin = createAdmin(cfg);
    try {
      const existing = await admin.partitionCount(this.o.topic);
      if (existing === undefined) {
        await admin.ensureTopic(this.o.topic, this.o.partitions ?? 4, this.o.compact ? { 'cleanup.policy': 'compact' } : undefined);
        this.partitions = this.o.partitions ?? 4;
      } else {
        this.partitions = existing;
      }
    } finally {
      await admin.close();
    }
    this.producer = createProducer(cfg, { idempotent: true });
    await this.producer.connect();
  }

  /** Phase 1: the epoch's records, into the actor's transaction if there is one, else kept for commit(). */
  async prepare(d: SinkDelivery, txn: EpochTransaction | undefined): Promise<void> {
    const out = this.records(d);
    if (txn) txn.add(out);
    else this.pending.set(`${d.actorId}:${d.epoch}`, out);
  }

  /** Phase 2: in a transaction, nothing (the runtime commits it); else sends what prepare() kept. */
  async commit(epochs: readonly SinkEpoch[]): Promise<void> {
    const out: ProducerRecord[] = [];
    for (const e of epochs) for (const r of this.pending.get(`${e.actorId}:${e.epoch}`) ?? []) out.push(r);
    if (out.length > 0) {
      try {
        await this.producer.send(out);
      } catch (err) {
        throw new SluiceError(ErrorCodes.SINK, `kafka sink ${this.o.topic}: ${(err as Error).message}`, { cause: err, retryable: !isRecordFault(err) });
      }
    }
    for (const e of epochs) this.pending.delete(`${e.actorId}:${e.epoch}`);
  }

  private records(d: SinkDelivery): ProducerRecord[] {
    const out: ProducerRecord[] = new Array(d.records.length);
    const keyFn = this.o.key;
    for (let i = 0; i < d.records.length; i++) {
      const r = d.records[i];
      const key = keyFn ? keyFn(r.value) : r.key;
      out[i] = {
        topic: this.o.topic,
        partition: key === null ? d.partition % this.partitions : undefined,
        key,
        value: r.value === null ? null : Buffer.from(this.codec.encode(r.value)),
        headers: { 'sluice-id': this.idPrefix + r.id },
        timestamp: Number.isFinite(r.time) ? r.time : undefined,
      };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.producer?.flush();
    await this.producer?.disconnect();
  }
}

export function kafkaSink(o: KafkaSinkOptions): SinkSpec<TwoPhaseSinkDriver> {
  return {
    kind: 'kafka',
    guarantee: 'exactly-once (committed in the actor\'s Kafka transaction with its checkpoint marker), for read_committed readers',
    outbox: true,
    create: () => new KafkaSinkDriver(o),
  };
}

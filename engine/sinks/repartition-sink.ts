/**
 * Repartition sink: writes a stream to an internal Kafka topic partitioned by
 * the records' keys, so that a later stage of the same job (reading that
 * topic as an `internal` source) sees every record of a key in one partition.
 * This is Kafka Streams' repartition topic; the reading side is
 * engine/operators/repartition-reader.ts.
 *
 * Wire format (JSON value, Kafka key = the record's key):
 *
 *   { "s": [<upstream partition>, <epoch>, <seq>], "t": <event time, ms>,
 *     "k": <key, or null>, "v": <the record's value> }
 *
 * `s` is the outbox record id `<partition>-<epoch>-<seq>` as numbers: it is
 * the same when an epoch is delivered again after a crash, and grows with
 * every record an upstream partition emits. The reader keeps the highest
 * `s` per upstream partition and drops anything at or below it, which is
 * what turns this sink's at-least-once writes into exactly-once input for
 * the next stage.
 *
 * Keyed records go to the partition Kafka's default partitioner (murmur2,
 * the Java client's) picks for the key. A record without a key is a control
 * record (a heartbeat, say) and is written to every partition.
 *
 * With `forwardWatermarks`, the actor appends its upstream watermark to each
 * epoch where it advanced (SinkSpec.watermarks), and this sink writes it to
 * every partition after the epoch's records as
 *
 *   { "s": [...], "t": <watermark>, "k": null, "v": null, "w": <watermark>, "n": <partitions> }
 *
 * `n` tells the reader how many upstream partitions to wait for. A source
 * reading the topic with `watermark: { upstream: true }` takes the minimum
 * over them (engine/runtime/watermark-tracker.ts), as Flink does over the
 * channels of a shuffle; the reader drops these records.
 */
import { markerWatermark, type SinkContext, type SinkDelivery, type SinkDriver, type SinkSpec } from '../contracts/sinks.ts';
import { createAdmin } from '../kafka/admin.ts';
import { isRecordFault } from '../kafka/client.ts';
import { createProducer } from '../kafka/producer.ts';
import type { Producer, ProducerRecord } from '../kafka/types.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

export interface RepartitionEnvelope<T = unknown> {
  s: [number, number, number];
  t: number;
  k: string | null;
  v: T;
  /** A watermark record: the upstream partition's watermark (ms). */
  w?: number;
  /** With `w`: the number of upstream partitions. */
  n?: number;
}

export interface RepartitionSinkOptions {
  topic: string;
  /** Forward the upstream watermark in-band (see the header); the reading source sets watermark.upstream. */
  forwardWatermarks?: boolean;
}

class RepartitionDriver implements SinkDriver {
  private producer: Producer | undefined;
  private cfg!: { brokers: string[]; clientId: string };
  private partitions = 0;

  constructor(private readonly o: RepartitionSinkOptions) {}

  async open(ctx: SinkContext): Promise<void> {
    if (ctx.runtime.brokers.length === 0) throw new SluiceError(ErrorCodes.CONFIG, `repartition sink "${ctx.sinkId}": no brokers configured`);
    const cfg = (this.cfg = { brokers: ctx.runtime.brokers, clientId: `sluice-${ctx.job}-repartition-${ctx.workerId}` });
    const admin = createAdmin(cfg);
    try {
      const n = await admin.partitionCount(this.o.topic);
      // The job created it at start (an `internal` source); a missing topic means the job does not read it.
      if (n === undefined) throw new SluiceError(ErrorCodes.CONFIG, `repartition sink: topic ${this.o.topic} does not exist (declare it as an internal source of the job)`);
      this.partitions = n;
    } finally {
      await admin.close();
    }
    await this.connect();
  }

  private async connect(): Promise<Producer> {
    const p = createProducer(this.cfg, { idempotent: true });
    await p.connect();
    this.producer = p;
    return p;
  }

  async deliver(d: SinkDelivery): Promise<void> {
    const out: ProducerRecord[] = [];
    const topic = this.o.topic;
    for (const r of d.records) {
      const dash = r.id.lastIndexOf('-');
      const wm = markerWatermark(r.value);
      const env: RepartitionEnvelope =
        wm === undefined
          ? { s: [d.partition, d.epoch, Number(r.id.slice(dash + 1))], t: r.time, k: r.key, v: r.value }
          : { s: [d.partition, d.epoch, Number(r.id.slice(dash + 1))], t: wm, k: null, v: null, w: wm, n: this.partitions };
      const value = Buffer.from(JSON.stringify(env));
      const timestamp = Number.isFinite(r.time) ? r.time : undefined;
      if (r.key !== null) out.push({ topic, key: r.key, value, timestamp });
      else for (let p = 0; p < this.partitions; p++) out.push({ topic, partition: p, key: null, value, timestamp });
    }
    try {
      await (this.producer ?? (await this.connect())).send(out);
    } catch (err) {
      // After a failed send an idempotent producer's sequence numbers may be out of step
      // with the broker's (engine/kafka/producer.ts): the retry gets a new producer.
      const old = this.producer;
      this.producer = undefined;
      await old?.disconnect().catch(() => {});
      throw new SluiceError(ErrorCodes.SINK, `repartition sink ${topic}: ${(err as Error).message}`, { cause: err, retryable: !isRecordFault(err) });
    }
  }

  async close(): Promise<void> {
    await this.producer?.flush();
    await this.producer?.disconnect();
  }
}

export function repartitionSink(o: RepartitionSinkOptions): SinkSpec<SinkDriver> {
  return {
    kind: 'repartition',
    guarantee: 'exactly-once into the next stage: at-least-once writes, deduplicated by (upstream partition, epoch, seq) on read',
    outbox: true,
    watermarks: o.forwardWatermarks === true,
    create: () => new RepartitionDriver(o),
  };
}

/**
 * Counts records per key. The input is a Kafka topic of JSON values with a
 * `key` field (source=kafka), or a deterministic generator (source=generator).
 * Output is an upsert stream {key, count}: only keys that changed since the
 * last checkpoint are emitted, at the checkpoint, like a Kafka Streams KTable
 * with its record cache. On Kafka it goes to a compacted topic keyed by key,
 * where the last value per key is the exact count.
 */
import { defineJob, discardSink, fileSink, generatorSource, kafkaSink, kafkaSource, KeyedProcessFunction, type Key, type OperatorContext } from '../api/index.ts';

interface Event {
  key: string;
  seq?: number;
}

export interface KeyCount {
  key: string;
  count: number;
}

class Counter extends KeyedProcessFunction<Event, KeyCount> {
  private readonly dirty = new Set<Key>();

  processElement(_v: Event, key: Key, _time: number, ctx: OperatorContext<KeyCount>): void {
    const s = ctx.valueState<number>('count');
    s.put(key, (s.get(key) ?? 0) + 1);
    this.dirty.add(key);
  }

  override onCheckpoint(_epoch: number, ctx: OperatorContext<KeyCount>): void {
    const s = ctx.valueState<number>('count');
    const now = ctx.now();
    for (const key of this.dirty) ctx.emit({ key: String(key), count: s.get(key)! }, now, key);
    this.dirty.clear();
  }
}

export default defineJob({
  name: 'keyed-count',
  description: 'Counts records per key into an upsert stream',
  settings: {
    source: 'kafka',
    topic: 'events',
    /** Value codec of the input topic: json or msgpack. */
    codec: 'json',
    /** Dead-letter topic; empty means `keyed-count.dlq` (or files, in embedded mode). */
    dlqTopic: '',
    outTopic: 'key-counts',
    sink: 'kafka',
    partitions: 4,
    keys: 1000,
    perPartition: 100_000,
  },
  choices: { source: ['kafka', 'generator'], codec: ['json', 'msgpack'], sink: ['kafka', 'discard', 'file'] },
  sources: (s) =>
    s.source === 'kafka'
      ? { events: kafkaSource<Event>({ topic: s.topic, codec: s.codec as 'json' | 'msgpack', validate: (v) => (typeof v?.key === 'string' ? undefined : 'missing string field "key"') }) }
      : {
          events: generatorSource<Event>({
            partitions: s.partitions,
            count: s.perPartition,
            // Key k always lands in partition k mod P, as a keyed Kafka producer would place it.
            generate: (p, o) => ({ key: `k${((o * 7919) % Math.ceil(s.keys / s.partitions)) * s.partitions + p}`, seq: o }),
          }),
        },
  sinks: (s) => ({
    counts:
      s.sink === 'kafka'
        ? kafkaSink({ topic: s.outTopic, compact: true, partitions: s.partitions })
        : s.sink === 'discard'
          ? discardSink()
          : fileSink({ dir: 'counts' }),
  }),
  pipeline(b) {
    b.source<Event>('events')
      .keyBy((e) => e.key, 'by-key')
      .process(new Counter(), 'count')
      .to('counts');
  },
});

/**
 * What the Kafka-fed Nexmark jobs share: the events topic as the reference's
 * Kafka table (events.ts: JSON, reference field names, event time from the
 * record's dateTime, watermark 4 s behind it as in ddl_kafka.sql), and the
 * repartition stages that keyed steps go through.
 *
 * Keys are not co-partitioned in the topic (the reference's split layout),
 * so a keyed step is a stage of its own: the stage before it writes its
 * records, keyed, to an internal topic `<repartitionPrefix>-<name>`
 * (engine/sinks/repartition-sink.ts) with the watermark forwarded in-band;
 * the keyed stage reads that topic (every record once, RepartitionReader),
 * and its event time is the minimum over the upstream partitions' (Flink's
 * shuffle does the same). Every stage runs in the same partition actors.
 *
 * Settings (`--set key=value`):
 *   topic             the events topic (bench/scenarios/nexmark-kafka-data.ts)
 *   outOfOrdernessMs  4000, as the reference's WATERMARK clause
 *   repartitionPrefix internal topics' prefix; one run's topics carry its ids,
 *                     so a fresh run (new group) needs a fresh prefix
 *   sink              "discard" (benchmarks) or "file" (JSON lines, tests)
 */
import {
  defineJob,
  discardSink,
  fileSink,
  kafkaSource,
  type JobDefinition,
  type PipelineBuilder,
  type SinkSpec,
  type SourceSpec,
  type RepartitionEnvelope,
  repartitionSink,
} from '../../api/index.ts';
import { eventTime, validateEvent, type KafkaEvent } from './events.ts';

export interface NexmarkKafkaSettings {
  [k: string]: string | number | boolean;
  topic: string;
  outOfOrdernessMs: number;
  repartitionPrefix: string;
  sink: string;
}

export const nexmarkKafkaDefaults: NexmarkKafkaSettings = {
  topic: 'nexmark',
  outOfOrdernessMs: 4000,
  repartitionPrefix: 'nexmark',
  sink: 'discard',
};

/** The sink setting's allowed values (`--set sink=fil` is rejected at start, with these). */
export const nexmarkKafkaChoices = { sink: ['discard', 'file'] } as const;

function eventsSource(s: NexmarkKafkaSettings): SourceSpec {
  return kafkaSource<KafkaEvent>({
    topic: s.topic,
    codec: 'json',
    startFrom: 'earliest',
    validate: validateEvent,
    timestamp: eventTime,
    watermark: { maxOutOfOrdernessMs: s.outOfOrdernessMs },
  });
}

function internalTopic(s: NexmarkKafkaSettings, name: string): string {
  return `${s.repartitionPrefix}-${name}`;
}

/** The reading side of a repartition stage: its event time comes from the upstream partitions' watermarks. */
function stageSource(s: NexmarkKafkaSettings, name: string): SourceSpec {
  return kafkaSource<RepartitionEnvelope>({
    topic: internalTopic(s, name),
    codec: 'json',
    internal: true,
    startFrom: 'earliest',
    timestamp: (e) => e.t,
    watermark: { upstream: true },
  });
}

function stageSink(s: NexmarkKafkaSettings, name: string): SinkSpec {
  return repartitionSink({ topic: internalTopic(s, name), forwardWatermarks: true });
}

function outputSink(s: NexmarkKafkaSettings): SinkSpec {
  if (s.sink === 'file') return fileSink({ dir: 'out' });
  if (s.sink === 'discard') return discardSink();
  throw new RangeError(`nexmark-kafka: setting sink must be "discard" or "file", got "${s.sink}"`);
}

/** Sources and sinks of a job with the given repartition stages: `<stage>` to read one, `to-<stage>` to write it. */
function stagedSources(s: NexmarkKafkaSettings, stages: readonly string[]): Record<string, SourceSpec> {
  return Object.fromEntries([['events', eventsSource(s)], ...stages.map((n) => [n, stageSource(s, n)])]);
}

function stagedSinks(s: NexmarkKafkaSettings, stages: readonly string[]): Record<string, SinkSpec> {
  return Object.fromEntries([['out', outputSink(s)], ...stages.map((n) => [`to-${n}`, stageSink(s, n)])]);
}

/**
 * A Kafka-fed Nexmark job: the events topic in (source `events`), the output
 * sink `out`, and a source and sink per repartition stage.
 */
export function nexmarkKafkaJob(def: {
  name: string;
  description: string;
  stages?: readonly string[];
  pipeline(b: PipelineBuilder): void;
}): JobDefinition<NexmarkKafkaSettings> {
  const stages = def.stages ?? [];
  return defineJob({
    name: def.name,
    description: def.description,
    settings: nexmarkKafkaDefaults,
    choices: nexmarkKafkaChoices,
    sources: (s) => stagedSources(s, stages),
    sinks: (s) => stagedSinks(s, stages),
    pipeline: def.pipeline,
  });
}

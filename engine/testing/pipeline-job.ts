/**
 * Helpers of the test driver: a job made of one pipeline (for
 * TestDriver.forPipeline), and Kafka's default partitioner.
 */
import '../kafka/kafkajs-fast-decode.ts'; // before kafkajs loads (engine/kafka/kafkajs-fast-decode.ts)
import { Partitioners } from 'kafkajs';
import type { JobDefinition } from '../contracts/job.ts';
import { PipelineBuilder } from '../contracts/pipeline.ts';
import type { SinkSpec } from '../contracts/sinks.ts';
import { customSource, type SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { PipelineSourceOptions } from './driver-types.ts';

/**
 * The job around one pipeline: its sources are the ids `build` reads with
 * `b.source(id)`, its sinks the ids it writes with `.to(id)`. Neither is
 * ever opened: the driver feeds the sources and stands memory sinks in.
 */
export function pipelineJob(build: (b: PipelineBuilder) => void, options: Record<string, PipelineSourceOptions>, partitions: number): JobDefinition {
  const probe = new PipelineBuilder();
  build(probe);
  const sources: Record<string, SourceSpec> = {};
  const sinks: Record<string, SinkSpec> = {};
  for (const n of probe.nodes) {
    if (n.kind === 'source') {
      sources[n.sourceId] = customSource({ partitions, ...options[n.sourceId], open: () => notRunnable() });
    } else if (n.kind === 'sink') {
      sinks[n.sinkId] = { kind: 'memory', guarantee: 'exactly-once (by record id)', outbox: true, create: () => notRunnable() };
    }
  }
  return { name: 'pipeline', sources, sinks, pipeline: (b) => build(b) };
}

function notRunnable(): never {
  throw new SluiceError(ErrorCodes.ILLEGAL_STATE, "test driver: a pipeline driver's sources and sinks exist only inside the driver");
}

const defaultPartitioner = Partitioners.DefaultPartitioner();

/** The partition Kafka's default partitioner (murmur2, as the Java client) gives `key` among `partitions`. */
export function kafkaPartition(key: string, partitions: number): number {
  const partitionMetadata = Array.from({ length: partitions }, (_, p) => ({ partitionId: p, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
  return defaultPartitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

/**
 * What every Nexmark job shares: its settings, the generator source, the
 * sink choice (one job definition, `nexmarkJob`), and the window arithmetic.
 *
 * Settings (`--set key=value`):
 *   partitions       generator timelines = partition actors (default 4). The
 *                    events depend on it; keep it fixed when comparing worker counts.
 *   events           total events over all partitions (default 1,000,000).
 *   eventsPerSecond  event-time rate (default 100,000/s): a 10 s window holds
 *                    1M events. The reference suite runs 100M events at 10M/s;
 *                    we keep its ratio of run length to window size, not its
 *                    density, so windows open and close during a run.
 *   sink             "discard" (benchmarks) or "file" (JSON lines under the
 *                    output dir, for the correctness tests).
 *   layout           "interleaved" (default here, labelled): every key
 *                    co-partitioned, which the hand-written jobs of this
 *                    folder rely on (they never shuffle); "split": the
 *                    reference's layout (generator.ts), which only the
 *                    Kafka-fed jobs (jobs/nexmark-kafka/) read correctly.
 *   strings          "reference" (default): built a character at a time, as
 *                    the reference does; "pool": slices of a fixed pool
 *                    (labelled: cheaper than the reference).
 */
import { defineJob, discardSink, fileSink, generatorSource, type JobDefinition, type PipelineBuilder, type SinkSpec, type SourceSpec } from '../../api/index.ts';
import { nexmarkConfig } from './generator-config.ts';
import { NexmarkGenerator } from './generator.ts';
import type { NexmarkEvent } from './model.ts';

export interface NexmarkSettings {
  [k: string]: string | number | boolean;
  partitions: number;
  events: number;
  eventsPerSecond: number;
  sink: string;
  layout: string;
  strings: string;
}

export const nexmarkDefaults: NexmarkSettings = {
  partitions: 4,
  events: 1_000_000,
  eventsPerSecond: 100_000,
  sink: 'discard',
  layout: 'interleaved',
  strings: 'reference',
};

/** The sink setting's allowed values (`--set sink=fil` is rejected at start, with these). */
export const nexmarkChoices = { sink: ['discard', 'file'] } as const;

/** Events per partition: the total split evenly (the remainder is dropped, so every timeline has the same length). */
export function eventsPerPartition(s: NexmarkSettings): number {
  return Math.floor(s.events / s.partitions);
}

export function nexmarkGenerator(s: NexmarkSettings): NexmarkGenerator {
  if (s.layout !== 'split' && s.layout !== 'interleaved') throw new RangeError(`nexmark: setting layout must be "split" or "interleaved", got "${s.layout}"`);
  if (s.strings !== 'reference' && s.strings !== 'pool') throw new RangeError(`nexmark: setting strings must be "reference" or "pool", got "${s.strings}"`);
  return new NexmarkGenerator(nexmarkConfig(s.partitions, s.eventsPerSecond, { layout: s.layout, strings: s.strings, eventsPerPartition: eventsPerPartition(s) }));
}

export function nexmarkSources(s: NexmarkSettings): Record<string, SourceSpec> {
  const gen = nexmarkGenerator(s);
  return {
    events: generatorSource<NexmarkEvent>({
      partitions: s.partitions,
      count: eventsPerPartition(s),
      generate: (p, k) => gen.generate(p, k),
      timestamp: (e) => e.time,
      // A timeline's event times never decrease (the reference's outOfOrderGroupSize = 1).
      watermark: { maxOutOfOrdernessMs: 0 },
    }),
  };
}

export function nexmarkSinks(s: NexmarkSettings): Record<string, SinkSpec> {
  if (s.sink === 'file') return { out: fileSink({ dir: 'out' }) };
  if (s.sink === 'discard') return { out: discardSink() };
  throw new RangeError(`nexmark: setting sink must be "discard" or "file", got "${s.sink}"`);
}

/** A Nexmark job: the generator's events in, one sink out; the query is its pipeline. */
export function nexmarkJob(def: { name: string; description: string; pipeline(b: PipelineBuilder): void }): JobDefinition<NexmarkSettings> {
  return defineJob({ ...def, settings: nexmarkDefaults, choices: nexmarkChoices, sources: nexmarkSources, sinks: nexmarkSinks });
}

/** Start of the tumbling window of `size` ms holding time t (windows aligned to the epoch, as Flink's). */
export function windowStart(t: number, size: number): number {
  return t - (((t % size) + size) % size);
}

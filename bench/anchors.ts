/**
 * The published figures sluice is measured against (from the project's
 * anchors document), rendered at the top of bench/README.md. Scenario
 * results carry the anchor that applies to each of their figures as well.
 */
import { fmt } from './format.ts';

export interface PublishedFigure {
  system: string;
  what: string;
  value: number;
  unit: string;
  source: string;
}

export const published: PublishedFigure[] = [
  ...(
    [
      ['q0', 155_000],
      ['q1', 158_000],
      ['q2', 175_000],
      ['q3', 152_000],
      ['q4', 34_000],
      ['q5', 22_000],
      ['q7', 12_000],
      ['q8', 146_000],
    ] as const
  ).map(([q, v]) => ({ system: 'Flink 1.13', what: `Nexmark ${q}, in-process generator, blackhole sink`, value: v, unit: 'events/s per core', source: 'nexmark/nexmark README' })),
  { system: 'RisingWave', what: 'Nexmark q0, reading from Kafka', value: 118_000, unit: 'events/s per core', source: 'RisingWave performance reports' },
  { system: 'RisingWave', what: 'Nexmark q8, reading from Kafka', value: 61_000, unit: 'events/s per core', source: 'RisingWave performance reports' },
  { system: 'Kafka Streams', what: 'KStream-KStream inner join, 1 s window, RocksDB', value: 20_000, unit: 'records/s', source: 'apache/kafka#10917' },
  { system: 'Kafka Streams', what: 'KStream-KStream inner join, 1 s window, in memory', value: 35_000, unit: 'records/s', source: 'apache/kafka#10917' },
  { system: 'Kafka Streams', what: 'windowed count', value: 18_000, unit: 'records/s (16–20k)', source: 'apache/kafka#4854' },
  { system: 'kafkajs', what: 'consume (vendor figure, M2 Max)', value: 127_000, unit: 'msg/s', source: 'platformatic/kafka BENCHMARKS.md' },
  { system: '@platformatic/kafka', what: 'consume (vendor figure, M2 Max)', value: 153_000, unit: 'msg/s', source: 'platformatic/kafka BENCHMARKS.md' },
  { system: 'kafkajs', what: 'consume with eachBatch', value: 80_000, unit: 'msg/s', source: 'tulios/kafkajs#242' },
  { system: 'kafkajs', what: 'consume with eachMessage', value: 65_000, unit: 'msg/s', source: 'tulios/kafkajs#242' },
];

export const goals: string[] = [
  'Nexmark from Kafka (issue 19): sluice ≥ 2× Flink per CPU-second, both reading the same topic on this machine (nexmark-kafka). The issue 8 goals against the published Flink 1.13 figures (q0 ≥ 155k/s per core ... q7 ≥ 60k/s) compared an embedded, co-partitioned, pool-string generator with Flink\'s reference setup; they are withdrawn.',
  'Kafka end to end: (b)/(a) ≥ 0.8 (the orders-payments job against the raw kafkajs ceiling), (b)/(d) ≥ 5 (against Kafka Streams, both committing every second), ≥ 5 per CPU-second against Spark Structured Streaming (issue 19), measured as (f)/(e): sluice with one checkpoint for the backlog, as Spark\'s availableNow run commits twice; (b)/(e), a sluice that checkpoints every second against that run, is shown without a goal.',
  'p99 latency below 50 ms at half of the maximum rate.',
  '10M live keys: RSS below 1.5 GB, processing again within 10 s of a SIGKILL and restart.',
];

export function anchorsMarkdown(): string {
  const rows = published.map((p) => `| ${p.system} | ${p.what} | ${fmt(p.value)} | ${p.unit} | ${p.source} |`);
  return [
    '## Anchors and goals',
    '',
    'Published figures of other systems, measured elsewhere on other hardware: a direction, not a like-for-like comparison.',
    '',
    '| system | what | value | unit | source |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
    'Goals (issues 8 and 19; recorded, never asserted in tests):',
    '',
    ...goals.map((g) => `- ${g}`),
  ].join('\n');
}

/**
 * `npm run bench -- kafka-spark`: the Kafka scenario (kafka.ts) narrowed to
 * the side-by-side run of issue 19: raw client, sluice, Kafka Streams and
 * the Spark peer in the same rounds, then latency at 2,000 records/s for
 * sluice (1 s and 20 ms checkpoints) and Spark (default trigger). It has its
 * own result file (bench/results/<date>-kafka-spark.json) so that it does not
 * replace the full Kafka scenario's.
 */
import type { Scenario } from '../scenario.ts';
import { kafkaScenario } from './kafka.ts';

export const kafkaSparkScenario: Scenario = {
  name: 'kafka-spark',
  description: 'orders-payments over real Kafka side by side: raw kafkajs, sluice, Kafka Streams, Spark Structured Streaming; latency at 2 k records/s',
  defaults: {
    ...kafkaScenario.defaults,
    // Spark reads the backlog in one micro-batch: 500 k orders (955 k records) keeps it within 2 GiB of driver heap.
    orders: 500_000,
    runs: 2,
    contenders: 'raw,sluice,streams,spark',
    latencyRates: '2000',
    latencyCheckpointMs: '1000,20',
  },
  run: (o) => kafkaScenario.run(o),
};

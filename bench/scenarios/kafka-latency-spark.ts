/**
 * Latency of the Spark peer at a fixed load, measured as kafka-latency.ts
 * measures sluice: live records produced at `rate` records/s by the same
 * separate process (live-producer.ts) into fresh topics; the peer runs its
 * default trigger (the next micro-batch as soon as the last one ends) and
 * samples, for every paid row, the time its micro-batch reached the sink
 * minus the row's event time (the producer's send time). The first `warmupS`
 * seconds of event time are not sampled.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createAdmin } from '../../engine/kafka/admin.ts';
import { log, type Figure } from '../bench-harness.ts';
import { startSparkLive } from '../peers/spark.ts';
import { datasetFor, deleteTopics } from './kafka-data.ts';
import { latencyFigures, percentile, runProducer } from './kafka-latency.ts';

export interface SparkLatencyOptions {
  brokers: string[];
  partitions: number;
  rate: number;
  seconds: number;
  shufflePartitions: number;
  driverMemory: string;
  warmupS?: number;
}

export async function measureSparkLatency(o: SparkLatencyOptions): Promise<Figure[]> {
  const warmupS = o.warmupS ?? 3;
  const d = datasetFor(0, o.partitions, `sluice-bench-live-spark-${Date.now().toString(36)}`);
  const admin = createAdmin({ brokers: o.brokers, clientId: 'sluice-bench' });
  try {
    for (const t of [d.ordersTopic, d.paymentsTopic]) await admin.ensureTopic(t, d.partitions);
  } finally {
    await admin.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-spark-live-'));
  try {
    const peer = await startSparkLive({
      brokers: o.brokers.join(','),
      ordersTopic: d.ordersTopic,
      paymentsTopic: d.paymentsTopic,
      checkpointDir: dir,
      shufflePartitions: o.shufflePartitions,
      driverMemory: o.driverMemory,
      timeoutS: 600 + o.seconds,
    });
    const sinceMs = Date.now() + warmupS * 1000;
    const produced = await runProducer([o.brokers.join(','), d.ordersTopic, d.paymentsTopic, String(o.rate), String(o.seconds)]).catch(async (err: unknown) => {
      await peer.stop().catch(() => undefined);
      throw err;
    });
    // Micro-batches take seconds here: leave the last records 30 s to come through before stopping.
    await new Promise((r) => setTimeout(r, 30_000));
    const { samples, batches } = await peer.stop();
    const sorted = Float64Array.from(samples.filter(([t]) => t >= sinceMs).map(([, ms]) => ms)).sort();
    const labels = { contender: `(e) Spark peer latency at ${o.rate.toLocaleString('en-US')} records/s, default trigger` };
    log(`kafka: spark latency: ${sorted.length} samples in ${batches} micro-batches, p50 ${percentile(sorted, 50)} ms, p99 ${percentile(sorted, 99)} ms; producer ${JSON.stringify(produced)}`);
    return latencyFigures(labels, sorted, produced);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await deleteTopics(o.brokers, [d.ordersTopic, d.paymentsTopic]).catch(() => {});
  }
}

/**
 * The raw ceiling of the Kafka scenario, (a): kafkajs consuming the orders
 * and payments topics with `eachBatch` and JSON-decoding every value, doing
 * nothing else. Same fetch settings as the engine's consumer
 * (engine/kafka/consumer.ts): 1 MiB per partition, 8 MiB per fetch, 200 ms
 * max wait, as many partitions consumed concurrently as the engine uses.
 *
 * Measured from the first batch to the last record, so the group join is
 * outside (as for the other contenders).
 */
import { Kafka, logLevel } from 'kafkajs';
import type { Dataset } from './kafka-data.ts';

export interface ConsumeRun {
  records: number;
  /** First record to last record, seconds. */
  seconds: number;
  cpuS: number;
}

export async function rawKafkajsCeiling(brokers: string[], d: Dataset, groupId: string, timeoutS: number): Promise<ConsumeRun> {
  const kafka = new Kafka({ brokers, clientId: 'sluice-bench-raw', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId, maxBytesPerPartition: 1 << 20, maxBytes: 8 << 20, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topics: [d.ordersTopic, d.paymentsTopic], fromBeginning: true });
  let n = 0;
  let t0 = 0;
  let c0 = process.cpuUsage();
  let decoded = 0;
  let finish!: (r: ConsumeRun) => void;
  const done = new Promise<ConsumeRun>((r) => (finish = r));
  await consumer.run({
    partitionsConsumedConcurrently: 4,
    eachBatch: async ({ batch }) => {
      if (t0 === 0) {
        t0 = performance.now();
        c0 = process.cpuUsage();
      }
      for (const m of batch.messages) {
        // JSON.parse on a Buffer converts it to a string first, as the engine's json codec does.
        if (m.value !== null && JSON.parse(m.value.toString('utf8')) !== null) decoded++;
      }
      n += batch.messages.length;
      if (n >= d.total) {
        const c = process.cpuUsage(c0);
        finish({ records: n, seconds: (performance.now() - t0) / 1000, cpuS: (c.user + c.system) / 1e6 });
      }
    },
  });
  const timer = setTimeout(() => finish({ records: n, seconds: NaN, cpuS: NaN }), timeoutS * 1000);
  const r = await done;
  clearTimeout(timer);
  await consumer.disconnect();
  if (!Number.isFinite(r.seconds)) throw new Error(`raw kafkajs consumer timed out after ${timeoutS} s with ${n} of ${d.total} records`);
  if (decoded !== n) throw new Error(`raw consumer decoded ${decoded} of ${n} records`);
  return r;
}

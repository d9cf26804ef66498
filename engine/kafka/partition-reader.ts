/**
 * Reads one partition of one or more topics from the beginning to the end
 * offsets found at the start (read_committed: aborted transactions and
 * control records are skipped). Used to restore state from changelogs.
 *
 * kafkajs has no manual assignment, so the reader joins a throwaway consumer
 * group of its own, pauses every partition but the wanted one, and leaves
 * and deletes the group when done. Control-only batches never reach
 * eachBatch, so progress is tracked with kafkajs' END_BATCH_PROCESS events,
 * which fire for those too.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload } from 'kafkajs';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { createAdmin } from './admin.ts';
import { createKafka } from './client.ts';
import type { KafkaClientConfig, KafkaRecord } from './types.ts';
import { convertMessages } from './records.ts';

export interface ReadProgress {
  records: number;
}

export async function readPartitions(
  cfg: KafkaClientConfig,
  topics: readonly string[],
  partition: number,
  onRecords: (topic: string, records: KafkaRecord[]) => void,
  timeoutMs = 300_000,
  /** Told the number of offsets to read (the end offsets found at the start), before any record. */
  onEnds?: (total: number) => void,
): Promise<ReadProgress> {
  const admin = createAdmin(cfg);
  const ends = new Map<string, number>();
  try {
    for (const t of topics) ends.set(t, (await admin.topicEndOffsets(t)).get(partition) ?? 0);
  } finally {
    await admin.close();
  }
  onEnds?.([...ends.values()].reduce((a, b) => a + b, 0));
  const pending = new Set(topics.filter((t) => (ends.get(t) ?? 0) > 0));
  if (pending.size === 0) return { records: 0 };
  const groupId = `sluice-restore-${randomUUID()}`;
  const kafka = createKafka(cfg, 'restore');
  const consumer: Consumer = kafka.consumer({ groupId, maxBytesPerPartition: 4 << 20, maxWaitTimeInMs: 100, readUncommitted: false });
  let records = 0;
  await consumer.connect();
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new SluiceError(ErrorCodes.TIMEOUT, `restore of partition ${partition} from ${[...pending].join(', ')} took over ${timeoutMs} ms`)),
        timeoutMs,
      );
      consumer.on(consumer.events.GROUP_JOIN, (e) => {
        const others: Array<{ topic: string; partitions: number[] }> = [];
        for (const [topic, ps] of Object.entries(e.payload.memberAssignment)) {
          const o = ps.filter((p) => p !== partition);
          if (o.length) others.push({ topic, partitions: o });
        }
        if (others.length) consumer.pause(others);
      });
      consumer.on(consumer.events.END_BATCH_PROCESS, (e) => {
        const { topic, partition: p, lastOffset } = e.payload;
        if (p !== partition || !pending.has(topic)) return;
        if (Number(lastOffset) + 1 >= ends.get(topic)!) pending.delete(topic);
        if (pending.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      });
      consumer.on(consumer.events.CRASH, (e) => {
        clearTimeout(timer);
        reject(new SluiceError(ErrorCodes.KAFKA, `restore reader crashed: ${e.payload.error.message}`, { cause: e.payload.error }));
      });
      consumer
        .subscribe({ topics: [...pending], fromBeginning: true })
        .then(() =>
          consumer.run({
            autoCommit: false,
            eachBatch: async ({ batch }: EachBatchPayload) => {
              if (batch.partition !== partition) return;
              const recs = convertMessages(batch.topic, batch.partition, batch.messages, 0);
              records += recs.length;
              onRecords(batch.topic, recs);
            },
          }),
        )
        .catch((err: unknown) => {
          clearTimeout(timer);
          reject(err as Error);
        });
    });
  } finally {
    await consumer.disconnect();
    const a = createAdmin(cfg);
    await a.deleteGroupOffsets(groupId).catch(() => {});
    await a.close();
  }
  return { records };
}

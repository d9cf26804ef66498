/**
 * The co-partitioning check of a Kafka job's inputs: every source topic
 * exists and has the same number of partitions, since partition p of every
 * topic goes to the same actor. Internal topics (repartition topics the job
 * writes itself) are created like the others, as Kafka Streams does.
 */
import { createAdmin } from '../kafka/admin.ts';
import type { KafkaClientConfig } from '../kafka/types.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

/** The topics' partition count and the cluster's id (state identity, state-identity.ts). */
export async function checkCopartitioned(cfg: KafkaClientConfig, topics: readonly string[], isInternal: (topic: string) => boolean): Promise<{ partitions: number; cluster: string }> {
  const admin = createAdmin(cfg);
  try {
    const counts: Array<[string, number | undefined]> = await Promise.all(topics.map(async (t) => [t, await admin.partitionCount(t)] as [string, number | undefined]));
    const like = counts.find(([t, n]) => n !== undefined && !isInternal(t))?.[1];
    for (const c of counts) {
      if (c[1] === undefined && like !== undefined && isInternal(c[0])) {
        await admin.ensureTopic(c[0], like);
        c[1] = like;
      }
    }
    const missing = counts.filter(([, n]) => n === undefined).map(([t]) => t);
    if (missing.length) throw new SluiceError(ErrorCodes.CONFIG, `source topic(s) do not exist: ${missing.join(', ')}`);
    const first = counts[0][1]!;
    if (counts.some(([, n]) => n !== first)) {
      throw new SluiceError(
        ErrorCodes.PARTITION_MISMATCH,
        `source topics are not co-partitioned: ${counts.map(([t, n]) => `${t}=${n}`).join(', ')}. ` +
          'Records of one key must land in the same partition number of every topic; give the topics the same partition count.',
      );
    }
    return { partitions: first, cluster: await admin.clusterId() };
  } finally {
    await admin.close();
  }
}

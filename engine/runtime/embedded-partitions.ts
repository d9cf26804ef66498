/**
 * The partition count of a job without Kafka input: every embedded source
 * (generator, custom, file) declares its own, and they must agree (partition p
 * of every source is the one actor p).
 */
import type { SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

export function embeddedPartitions(sources: Record<string, SourceSpec>): number {
  const counts = Object.entries(sources).map(
    ([id, s]) => [id, s.kind === 'generator' || s.kind === 'custom' ? s.partitions : s.kind === 'file' ? (s.partitions ?? 1) : 0] as const,
  );
  const first = counts[0][1];
  const bad = counts.find(([, n]) => n !== first);
  if (bad) {
    throw new SluiceError(
      ErrorCodes.PARTITION_MISMATCH,
      `sources are not co-partitioned: ${counts.map(([id, n]) => `${id}=${n}`).join(', ')}; every source of a job needs the same partition count`,
    );
  }
  if (!Number.isInteger(first) || first < 1) throw new SluiceError(ErrorCodes.CONFIG, `partition count must be a positive integer, got ${first}`);
  return first;
}

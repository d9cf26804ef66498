/**
 * "Offset out of range": a checkpointed position the topic no longer holds
 * (retention deleted the records past it, or the topic was recreated and
 * holds fewer). By default the job fails, naming the partition, the
 * position, the range and the ways out; kafkajs alone would reset to the
 * earliest offset, which the engine then refused, in a loop. With
 * --offset-reset earliest|latest a position behind the log start skips
 * forward to it, with a warning; a position past the end (a recreated topic)
 * always fails: its state was computed from other records.
 */
import { ErrorCodes, SluiceError } from '../errors.ts';

/** What a checkpointed position the topic no longer holds does (checkOffsetRange). */
export type OffsetReset = 'fail' | 'earliest' | 'latest';

/** Per partition, the first offset still held (log start) and the high watermark. */
export type OffsetRanges = (topic: string) => Promise<Map<number, { low: number; high: number }>>;

export interface OffsetRangeCheck {
  /** Partition `p` of every input. */
  p: number;
  /** The actor's checkpointed positions, by source id. */
  positions: Record<string, number>;
  ranges: OffsetRanges;
  sourceIds: readonly string[];
  topics: readonly string[];
  offsetReset: OffsetReset;
  job: string;
  /** Called with the error before it is thrown: the job fails. */
  fail(e: SluiceError): void;
}

/** Returns the seek offset per input where it differs from the position. */
export async function checkOffsetRange(c: OffsetRangeCheck): Promise<Array<number | undefined>> {
  const { p, positions, ranges, offsetReset } = c;
  const starts: Array<number | undefined> = [];
  for (let i = 0; i < c.sourceIds.length; i++) {
    const pos = positions[c.sourceIds[i]] ?? 0;
    if (pos <= 0) continue;
    const topic = c.topics[i];
    const r = (await ranges(topic)).get(p);
    if (!r || (pos >= r.low && pos <= r.high)) continue;
    const where = `kafka input on partition ${p} (${topic}:${p})`;
    if (pos < r.low && offsetReset !== 'fail') {
      starts[i] = offsetReset === 'earliest' ? r.low : r.high;
      process.stderr.write(`sluice: warning: ${where}: checkpointed offset ${pos} is no longer in the topic (it holds ${r.low}-${r.high}); --offset-reset ${offsetReset}: reading from ${starts[i]}, records ${pos}-${r.low - 1} are lost\n`);
      continue;
    }
    const why = pos < r.low ? 'retention deleted the records after it' : 'the topic holds fewer records: it was recreated, or this state was written for another topic';
    const way = pos < r.low ? 'skip to what is there with --offset-reset earliest (or latest), or start over' : 'start over';
    const e = new SluiceError(ErrorCodes.KAFKA, `${where}: checkpointed offset ${pos} is out of range (the topic holds ${r.low}-${r.high}; ${why}): ${way} with \`sluice reset ${c.job}\``);
    c.fail(e);
    throw e;
  }
  return starts;
}

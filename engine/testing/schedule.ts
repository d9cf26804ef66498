/**
 * A schedule: what happens to a job, step by step — records arriving (in
 * any order, duplicated, late), the watermark and processing time moving,
 * checkpoints, crashes at a checkpoint phase, and input redelivered by a
 * re-fetching consumer. The fast-check arbitraries (arbitraries.ts) make
 * schedules; runSchedule plays one on a TestDriver. Plain data, so a
 * failing schedule prints readably and can be replayed by hand.
 */
import type { Settings } from '../contracts/job.ts';
import type { CrashPoint, TestRecord } from './driver-types.ts';
import type { TestDriver } from './test-driver.ts';

/** A record of source `source`. */
export type InputRecord<T = unknown> = TestRecord<T> & { source: string };

export type ScheduleStep<T = unknown> =
  | ({ kind: 'record' } & InputRecord<T>)
  | { kind: 'watermark'; time: number }
  | { kind: 'advance-time'; ms: number }
  | { kind: 'checkpoint' }
  | { kind: 'crash'; at: CrashPoint }
  /** Records of `source` from `fromOffset` on again (every partition when `partition` is undefined): the actor skips them. */
  | { kind: 'redeliver'; source: string; partition?: number; fromOffset: number };

/** Plays `steps` on `driver`, in order. */
export async function runSchedule<T, S extends Settings>(d: TestDriver<S>, steps: ReadonlyArray<ScheduleStep<T>>): Promise<void> {
  for (const s of steps) {
    switch (s.kind) {
      case 'record':
        d.pipe(s.source, s.value, { key: s.key, time: s.time, partition: s.partition });
        break;
      case 'watermark':
        d.advanceWatermark(s.time);
        break;
      case 'advance-time':
        await d.advanceTime(s.ms);
        break;
      case 'checkpoint':
        await d.checkpoint();
        break;
      case 'crash':
        await d.checkpoint({ crashAt: s.at });
        break;
      case 'redeliver':
        for (let p = 0; p < d.partitions; p++) if (s.partition === undefined || s.partition === p) d.redeliver(s.source, { partition: p, fromOffset: s.fromOffset });
        break;
    }
  }
}

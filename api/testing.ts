/**
 * `sluice/testing`: the test kit for users' own jobs (docs/testing.md).
 * A TestDriver runs a job, or one pipeline, in-process on the engine's own
 * code path (partition actors, LMDB state, checkpoints), with in-memory
 * sources and sinks, a processing-time clock moved by hand, and crashes at
 * any checkpoint phase. The fast-check arbitraries and the model check are
 * in `sluice/testing/fast-check`, so that fast-check (an optional peer
 * dependency) loads only when a test imports them.
 */
export {
  CRASH_POINTS,
  type Arrival,
  type CrashPoint,
  type DeadLetter,
  type PipelineSourceOptions,
  type TestDriverOptions,
  type TestRecord,
} from '../engine/testing/driver-types.ts';
export { TestDriver } from '../engine/testing/test-driver.ts';
export { MemorySink, type OutputRecord } from '../engine/testing/memory-sink.ts';
export { ManualClock } from '../engine/testing/clock.ts';
export { runSchedule, type InputRecord, type ScheduleStep } from '../engine/testing/schedule.ts';

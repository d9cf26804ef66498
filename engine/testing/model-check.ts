/**
 * The model check: over many schedules (arbitraries.ts), a job's output
 * equals what a model of it computes from the records it received. The
 * model is the user's plain, obviously-right computation; it is given the
 * arrivals (TestDriver.arrivals: each record with its event time and the
 * watermark when it arrived, so lateness is the model's to judge), never the
 * crashes, checkpoints or redeliveries: those must not change the output.
 * After the schedule the inputs end (the watermark goes to +Infinity) and
 * the driver checkpoints; then each sink the model names, and the dead
 * letters if it names them, are compared as multisets.
 */
import { deepStrictEqual } from 'node:assert/strict';
import fc from 'fast-check';
import type { Settings } from '../contracts/job.ts';
import type { Arrival, DeadLetter } from './driver-types.ts';
import { runSchedule, type ScheduleStep } from './schedule.ts';
import type { TestDriver } from './test-driver.ts';

/** What the model says the job outputs. */
export interface ExpectedOutput {
  /** By sink id: the values the sink should hold, in any order. Sinks not named are not checked. */
  sinks: Record<string, unknown[]>;
  /** The dead letters' reasons and values, in any order; unchecked when omitted. */
  deadLetters?: Array<{ reason: string; value: unknown }>;
}

export interface ModelCheckOptions<T, S extends Settings = Settings> {
  /** A fresh driver per schedule (each run has its own state). */
  open: () => TestDriver<S>;
  schedules: fc.Arbitrary<Array<ScheduleStep<T>>>;
  model: (arrivals: Array<Arrival<T>>) => ExpectedOutput;
  /**
   * What the real sink makes of a list of values, applied to both sides
   * before they are compared as multisets of canonical JSON: e.g. an upsert
   * by id keeps one value per id. Default: the values as they are.
   */
  view?: (sinkId: string, values: unknown[]) => unknown[];
  /** fast-check parameters (numRuns defaults to 50, as each run opens an LMDB environment). */
  params?: fc.Parameters<[Array<ScheduleStep<T>>]>;
}

/** Runs the check; throws fast-check's report (the smallest failing schedule, with the diff) when output and model differ. */
export async function checkModel<T, S extends Settings = Settings>(o: ModelCheckOptions<T, S>): Promise<void> {
  await fc.assert(
    fc.asyncProperty(o.schedules, async (steps) => {
      const d = o.open();
      try {
        await runSchedule(d, steps);
        await d.finish();
        compareOutput(d, o.model(d.arrivals<T>()), o.view);
      } finally {
        await d.close();
      }
    }),
    { numRuns: 50, ...o.params },
  );
}

/** Asserts the driver's output equals `expected` (as multisets), and that no sink saw a redelivered id change. */
export function compareOutput<S extends Settings>(drv: TestDriver<S>, expected: ExpectedOutput, view: (sinkId: string, values: unknown[]) => unknown[] = (_s, v) => v): void {
  for (const [sinkId, want] of Object.entries(expected.sinks)) {
    const sink = drv.sink(sinkId);
    deepStrictEqual(sink.conflicts, [], `sink "${sinkId}": redelivered records changed value`);
    deepStrictEqual(multiset(view(sinkId, sink.values())), multiset(view(sinkId, want)), `sink "${sinkId}" differs from the model`);
  }
  if (expected.deadLetters) {
    const got = drv.deadLetters().map((x: DeadLetter) => ({ reason: x.reason, value: x.value }));
    deepStrictEqual(multiset(got), multiset(expected.deadLetters), 'dead letters differ from the model');
  }
}

/** Values as sorted canonical JSON strings: equal multisets give equal arrays. */
export function multiset(values: readonly unknown[]): string[] {
  return values.map(canonical).sort();
}

/** JSON with object keys sorted, so field order does not matter. */
export function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => {
    if (x === null || typeof x !== 'object' || Array.isArray(x)) return x;
    const o = x as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
  });
}

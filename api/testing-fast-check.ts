/**
 * `sluice/testing/fast-check`: fast-check arbitraries for the schedules that
 * break stream jobs (out of order within the bound, late, duplicated,
 * redelivered input, crashes at any checkpoint phase), and a check of a
 * job's output against a model over them (docs/testing.md). fast-check is
 * an optional peer dependency of sluice: install it (`npm i -D fast-check`)
 * to use this entry; `sluice/testing` itself does not need it.
 */
export { scheduleArbitrary, type ScheduleOptions } from '../engine/testing/arbitraries.ts';
export { checkModel, compareOutput, canonical, multiset, type ExpectedOutput, type ModelCheckOptions } from '../engine/testing/model-check.ts';
export { runSchedule, type InputRecord, type ScheduleStep } from '../engine/testing/schedule.ts';

/**
 * Correctness of the Nexmark jobs: each query runs as an ordinary sluice job
 * (2 workers, 4 partition actors, checkpoints every 200 ms, file sink) on a
 * small generated stream, and its output equals the plain reference
 * implementation's (test/nexmark/reference.ts) on the same events, as a
 * multiset of rows. q5 and q7 emit per-partition candidates; their combine
 * step runs over the job's output first (see jobs/nexmark/q5.ts).
 *
 * The event-time rate is low (3,000 events/s), so 60,000 events span 20 s
 * of event time: about 14 sliding windows for q5 and 2 tumbling windows for
 * q7 and q8, several of which close while the job runs.
 */
import { describe, expect, it } from 'vitest';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { eventsPerPartition, nexmarkDefaults, nexmarkGenerator, type NexmarkSettings } from '../../jobs/nexmark/common.ts';
import type { NexmarkEvent } from '../../jobs/nexmark/model.ts';
import { combineQ5, type Q5Candidate } from '../../jobs/nexmark/q5.ts';
import { combineQ7, type Q7Row } from '../../jobs/nexmark/q7.ts';
import { canonicalRows, readOutputRows } from '../helpers/output-rows.ts';
import { tempDir } from '../helpers/temp.ts';
import { refQ0, refQ1, refQ2, refQ3, refQ5, refQ7, refQ8 } from './reference.ts';

const settings: NexmarkSettings = { ...nexmarkDefaults, partitions: 4, events: 60_000, eventsPerSecond: 3_000, sink: 'file' };

function allEvents(): NexmarkEvent[] {
  const gen = nexmarkGenerator(settings);
  const out: NexmarkEvent[] = [];
  for (let p = 0; p < settings.partitions; p++) for (let k = 0; k < eventsPerPartition(settings); k++) out.push(gen.generate(p, k));
  return out;
}

async function runJob(query: string): Promise<unknown[]> {
  const jobModule = new URL(`../../jobs/nexmark/${query}.ts`, import.meta.url).href;
  const job = ((await import(jobModule)) as { default: JobDefinition<Settings> }).default;
  const outputDir = tempDir();
  const runner = new JobRunner({ jobModule, job, settings, workers: 2, stateDir: tempDir(), outputDir, checkpointIntervalMs: 200 });
  await runner.start();
  const summary = await runner.wait();
  expect(summary.state).toBe('STOPPED');
  expect(summary.recordsIn).toBe(settings.events);
  expect(summary.deadLetters).toEqual({});
  return readOutputRows(outputDir, 'out');
}

const events = allEvents();

const cases: Array<[string, (e: readonly NexmarkEvent[]) => unknown[], (rows: unknown[]) => unknown[]]> = [
  ['q0', refQ0, (r) => r],
  ['q1', refQ1, (r) => r],
  ['q2', refQ2, (r) => r],
  ['q3', refQ3, (r) => r],
  ['q5', refQ5, (r) => combineQ5(r as Q5Candidate[])],
  ['q5-windows', refQ5, (r) => combineQ5(r as Q5Candidate[])],
  ['q7', refQ7, (r) => combineQ7(r as Q7Row[])],
  ['q8', refQ8, (r) => r],
];

describe('Nexmark queries equal the reference implementation', () => {
  for (const [query, reference, combine] of cases) {
    it(`${query}`, async () => {
      const want = canonicalRows(reference(events));
      // A query whose reference output is empty would prove nothing.
      expect(want.length).toBeGreaterThan(0);
      const got = canonicalRows(combine(await runJob(query)));
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    });
  }
});

/**
 * The orders-payments job (jobs/orders-payments.ts) with every sink
 * replaced by the latency sink: same sources, same pipeline, same settings.
 */
import { defineJob, type JobDefinition, type Settings } from '../../api/index.ts';
import { resolveJob } from '../../engine/contracts/job.ts';
import { latencySink } from './latency-sink.ts';

// Loaded by URL: the job is built in parallel and may not be in every checkout.
const base = ((await import(new URL('../../jobs/orders-payments.ts', import.meta.url).href)) as { default: JobDefinition<Settings> }).default;

export default defineJob<Settings>({
  ...base,
  name: `${base.name}-latency`,
  sinks: (s) => Object.fromEntries(Object.keys(resolveJob(base, s).sinks).map((id) => [id, latencySink()])),
});

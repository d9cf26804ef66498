/**
 * One exposition from many registries: the main thread's families, each
 * worker thread's, and the process-wide Node.js metrics. Merging is
 * prom-client's `AggregatorRegistry.aggregate` (the same code that merges
 * cluster workers): families are grouped by name, so a metric that several
 * workers report is printed once with all their series. Series of different
 * workers differ in their `worker` label, so the "sum" aggregation only ever
 * adds a series to itself; two sources that report the very same label set
 * would be summed, which is what a counter split across threads needs.
 */
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import type { MetricFamilyJson } from './families.ts';

export const CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** The text exposition format (version 0.0.4) of the merged families. */
export async function exposition(parts: ReadonlyArray<readonly MetricFamilyJson[]>): Promise<string> {
  const registry = AggregatorRegistry.aggregate(parts.map((p) => [...p]));
  return registry.metrics();
}

let processRegistry: Registry | undefined;

/**
 * The default Node.js metrics (process_*, nodejs_*) of this process, with a
 * `job` label added. One registry per process, created on first use: these
 * figures are process-wide, and prom-client's collectors (GC observer,
 * event-loop delay monitor) cannot be stopped, so they must not be created
 * per job run.
 */
export async function processFamilies(job: string): Promise<MetricFamilyJson[]> {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  const list = (await processRegistry.getMetricsAsJSON()) as unknown as MetricFamilyJson[];
  for (const m of list) {
    // One copy exists, so any aggregator but 'omit' (process_start_time_seconds has it) keeps it as is.
    m.aggregator = 'first';
    for (const v of m.values) v.labels = { ...v.labels, job };
  }
  return list;
}

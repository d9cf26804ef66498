/**
 * Which component and partition a job failure belongs to, for
 * `sluice_job_failures_total{component,partition}`. Read from the failure's
 * message, which names them by convention (docs/engine.md, "Failures"):
 * "operator \"x\" onTimer on partition 2: ...", "kafka input on partition 3 ...",
 * "sink \"out\" of partition 1 ...".
 */
/** The failed component and partition, read from an error message ("operator \"x\" onTimer on partition 2: ..."). */
export function attribute(message: string): { component: string; partition: string } {
  const component = /^(operator|source|sink|kafka|worker)\b/.exec(message)?.[1] ?? (/^partition \d+: sink\b/.test(message) ? 'sink' : 'worker');
  return { component, partition: /\bpartition (\d+)/.exec(message)?.[1] ?? '' };
}

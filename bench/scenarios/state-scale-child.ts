/**
 * The process under test of the state-scale scenario: runs
 * bench/jobs/state-scale.ts on a given state dir and prints, once a second,
 * one JSON line of totals from the workers' stats:
 *   {"t": epoch ms, "rss": bytes, "ordersIn": n, "ticksIn": n, "checkpoints": n,
 *    "lastCheckpointMs": max over actors, "lastCheckpointAt": min over actors,
 *    "stateKeys": n, "cachedEntries": n}
 * Usage: node --import tsx bench/scenarios/state-scale-child.ts <stateDir> <keys> <partitions> <workers> <timers>
 * It runs until killed.
 */
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';

const [stateDir, keys, partitions, workers, timers] = process.argv.slice(2);
const jobModule = new URL('../jobs/state-scale.ts', import.meta.url).href;
const job = ((await import(jobModule)) as { default: JobDefinition<Settings> }).default;
const runner = new JobRunner({
  jobModule,
  job,
  settings: { ...job.settings, keys: Number(keys), partitions: Number(partitions), timers },
  workers: Number(workers),
  stateDir,
  outputDir: `${stateDir}-out`,
  cacheMaxEntries: 100_000,
});
await runner.start();
setInterval(() => {
  let ordersIn = 0;
  let ticksIn = 0;
  let checkpoints = 0;
  let lastCheckpointMs = 0;
  let lastCheckpointAt = Infinity;
  let stateKeys = 0;
  let cachedEntries = 0;
  for (const a of runner.stats.values()) {
    ordersIn += a.recordsIn[0];
    ticksIn += a.recordsIn[1];
    checkpoints += a.checkpoints;
    lastCheckpointMs = Math.max(lastCheckpointMs, a.lastCheckpointMs);
    lastCheckpointAt = Math.min(lastCheckpointAt, a.lastCheckpointAt);
    stateKeys += a.stateKeys;
    cachedEntries += a.cachedEntries;
  }
  const line = { t: Date.now(), rss: process.memoryUsage.rss(), ordersIn, ticksIn, checkpoints, lastCheckpointMs, lastCheckpointAt, stateKeys, cachedEntries };
  process.stdout.write(JSON.stringify(line) + '\n');
}, 1000);

/**
 * Runs one Kafka-fed Nexmark job (jobs/nexmark-kafka/) over the events topic
 * and measures it as the Kafka scenario measures a sluice job: from the first
 * batch a worker reports processed to the last record processed, CPU time of
 * this process (every thread) over the same span, peak RSS sampled meanwhile.
 *
 * The run is over when the input's last watermark has gone through every
 * stage: every actor's watermark (the minimum over its inputs, the
 * repartition topics' upstream watermarks included, which come after the
 * records they cover) has reached `finalWatermark`, the newest event time
 * minus the bound, so every window that can end has fired; and every actor
 * has since taken a checkpoint and delivered it, so the last rows are out.
 * Conditions only, from the workers' stats messages: no quiet period. The
 * span measured ends at the last processed batch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';
import { JobRunner, type JobSummary } from '../../engine/runtime/job-runner.ts';
import type { ActorStats, FromWorker } from '../../engine/runtime/protocol.ts';

export interface NexmarkKafkaRunOptions {
  jobModule: string;
  settings: Settings;
  brokers: string[];
  groupId: string;
  /** Events in the topic. */
  events: number;
  /** The watermark the input ends at: its newest event time minus the out-of-orderness bound. */
  finalWatermark: number;
  /** Partition actors (the topic's partitions). */
  partitions: number;
  workers: number;
  timeoutS: number;
  checkpointIntervalMs?: number;
  /** Where a file sink writes (tests); a temporary directory otherwise. */
  outputDir?: string;
}

export interface NexmarkKafkaRun {
  /** Records processed: events plus the records read back from internal topics. */
  processed: number;
  seconds: number;
  cpuS: number;
  peakRssMiB: number;
  summary: JobSummary;
}

export async function runNexmarkKafka(o: NexmarkKafkaRunOptions): Promise<NexmarkKafkaRun> {
  const job = ((await import(o.jobModule)) as { default: JobDefinition<Settings> }).default;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-nexmark-'));
  const interval = o.checkpointIntervalMs ?? 1000;
  const runner = new JobRunner({
    jobModule: o.jobModule,
    job,
    settings: o.settings,
    workers: o.workers,
    brokers: o.brokers,
    groupId: o.groupId,
    stateDir: join(dir, 'state'),
    outputDir: o.outputDir ?? join(dir, 'out'),
    checkpointIntervalMs: interval,
  });
  let processed = 0;
  let t0 = 0;
  let c0 = process.cpuUsage();
  let tLast = 0;
  let cLast = 0;
  let peakRss = process.memoryUsage.rss();
  const actors = new Map<string, ActorStats>();
  runner.onWorkerMessage((msg: FromWorker) => {
    if (msg.t === 'stats') for (const a of msg.actors) actors.set(a.actorId, a);
    if (msg.t !== 'processed') return;
    if (t0 === 0) {
      t0 = performance.now();
      c0 = process.cpuUsage();
    }
    processed += msg.records;
    tLast = performance.now();
    const c = process.cpuUsage(c0);
    cLast = (c.user + c.system) / 1e6;
  });
  try {
    await runner.start();
    const deadline = Date.now() + o.timeoutS * 1000;
    let reachedAt = 0;
    for (;;) {
      if (Date.now() > deadline) throw new Error(`${job.name}: timed out after ${o.timeoutS} s: ${processed} records processed of ${o.events} events; watermarks ${[...actors.values()].map((a) => a.watermark).join(', ')}`);
      await new Promise((r) => setTimeout(r, 100));
      peakRss = Math.max(peakRss, process.memoryUsage.rss());
      const all = [...actors.values()];
      if (all.length < o.partitions || processed < o.events) continue;
      if (reachedAt === 0) {
        if (all.every((a) => a.watermark >= o.finalWatermark)) reachedAt = Date.now();
        continue;
      }
      if (all.every((a) => a.lastCheckpointAt > reachedAt && a.undeliveredEpochs === 0)) break;
    }
    const summary = await runner.stop();
    return { processed, seconds: (tLast - t0) / 1000, cpuS: cLast, peakRssMiB: peakRss / 2 ** 20, summary };
  } catch (err) {
    await runner.stop().catch(() => {});
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

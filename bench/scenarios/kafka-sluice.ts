/**
 * Runs a sluice job over the preloaded Kafka topics and measures it, (b)
 * and (c) of the Kafka scenario.
 *
 * The clock starts at the first batch a worker reports processed and stops
 * when the workers have processed every input record ("processed"); with
 * `waitDelivered` it also records when the checkpoints covering every record
 * have been delivered to the sink ("delivered": for a database sink, the
 * moment the output is in the database). The group join and worker start-up
 * are outside, as for the other contenders.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import type { JobRunnerOptions } from '../../engine/runtime/job-runner-options.ts';
import type { FromWorker } from '../../engine/runtime/protocol.ts';
import type { Dataset } from './kafka-data.ts';

export interface SluiceKafkaRun {
  records: number;
  /** First processed batch to the last processed record, seconds. */
  seconds: number;
  /** First processed batch until every record's checkpoint was delivered, seconds (waitDelivered only). */
  deliveredSeconds: number | undefined;
  cpuS: number;
  /** CPU-seconds until delivered (waitDelivered only): what the final checkpoint and its delivery cost included. */
  cpuDeliveredS: number | undefined;
  /**
   * Epochs (checkpoints) delivered while the records were processed, summed
   * over the actors: how often the job really checkpointed during the run,
   * whatever its interval says (a catch-up's timer can starve: docs/engine.md,
   * "Memory budget"). The final epochs, delivered after, are not in it.
   */
  epochsDuringRun: number;
  outputs: Record<string, number>;
  deadLetters: Record<string, number>;
}

export interface SluiceKafkaOptions {
  jobModule: string;
  settings: Settings;
  brokers: string[];
  dataset: Dataset;
  workers: number;
  groupId: string;
  timeoutS: number;
  waitDelivered: boolean;
  checkpointIntervalMs?: number;
  /** More JobRunner options (epoch bounds, worker heap limit), as `sluice run` flags would set them. */
  runnerOptions?: Pick<JobRunnerOptions, 'maxEpochRecords' | 'maxUndeliveredRecords' | 'workerHeapMb' | 'cacheMaxEntries' | 'maxInflightBytes' | 'inputAlignmentMs' | 'untilEnd'>;
  /** Told the runner before it starts (the catch-up scenario samples its workers' heaps). */
  onRunner?: (runner: JobRunner) => void;
}

export async function runSluiceKafka(o: SluiceKafkaOptions): Promise<SluiceKafkaRun> {
  const job = ((await import(o.jobModule)) as { default: JobDefinition<Settings> }).default;
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-kafka-'));
  const runner = new JobRunner({
    jobModule: o.jobModule,
    job,
    settings: o.settings,
    workers: o.workers,
    brokers: o.brokers,
    groupId: o.groupId,
    stateDir: join(dir, 'state'),
    outputDir: join(dir, 'out'),
    checkpointIntervalMs: o.checkpointIntervalMs,
    ...o.runnerOptions,
  });
  o.onRunner?.(runner);
  let processed = 0;
  let t0 = 0;
  let c0 = process.cpuUsage();
  let tProcessed = 0;
  let cProcessed = 0;
  let tDelivered = 0;
  let cDelivered = 0;
  let epochsDuringRun = 0;
  /** Next offset delivered, per actor and source: their sum reaches the record count when everything is delivered. */
  const delivered = new Map<string, number>();
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  const check = (): void => {
    if (tProcessed > 0 && (!o.waitDelivered || tDelivered > 0)) finish();
  };
  runner.onWorkerMessage((msg: FromWorker) => {
    if (msg.t === 'processed') {
      if (t0 === 0) {
        t0 = performance.now();
        c0 = process.cpuUsage();
      }
      processed += msg.records;
      if (tProcessed === 0 && processed >= o.dataset.total) {
        tProcessed = performance.now();
        const c = process.cpuUsage(c0);
        cProcessed = (c.user + c.system) / 1e6;
        check();
      }
    } else if (msg.t === 'delivered' && t0 > 0 && tProcessed === 0) {
      epochsDuringRun++;
    }
    if (msg.t === 'delivered' && o.waitDelivered) {
      delivered.set(msg.actorId, Object.values(msg.positions).reduce((a, b) => a + b, 0));
      let sum = 0;
      for (const v of delivered.values()) sum += v;
      if (tDelivered === 0 && sum >= o.dataset.total) {
        tDelivered = performance.now();
        const c = process.cpuUsage(c0);
        cDelivered = (c.user + c.system) / 1e6;
        check();
      }
    }
  });
  try {
    await runner.start();
    const timer = setTimeout(finish, o.timeoutS * 1000);
    // A job that fails ends the run now, with its error, not at the timeout.
    let failure: unknown;
    runner.wait().catch((err: unknown) => {
      failure = err;
      finish();
    });
    await done;
    clearTimeout(timer);
    if (failure) throw failure;
    if (tProcessed === 0 || (o.waitDelivered && tDelivered === 0)) {
      throw new Error(`${job.name}: timed out after ${o.timeoutS} s: ${processed} of ${o.dataset.total} records processed`);
    }
    const summary = await runner.stop();
    return {
      records: processed,
      seconds: (tProcessed - t0) / 1000,
      deliveredSeconds: o.waitDelivered ? (tDelivered - t0) / 1000 : undefined,
      cpuS: cProcessed,
      cpuDeliveredS: o.waitDelivered ? cDelivered : undefined,
      epochsDuringRun,
      outputs: summary.recordsOut,
      deadLetters: summary.deadLetters,
    };
  } catch (err) {
    await runner.stop().catch(() => {});
    throw err;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

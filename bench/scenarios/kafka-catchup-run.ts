/**
 * Child process of the kafka-catchup scenario (kafka-catchup.ts): the
 * orders-payments job, alone in a fresh process, catches up on the whole
 * preloaded backlog from the start, with N workers. A process of its own so
 * that its peak RSS (VmHWM, every thread, native memory and LMDB's mapped
 * pages it touched included) is the job's and nothing else's.
 *
 *   node --import tsx bench/scenarios/kafka-catchup-run.ts '<json CatchupRunOptions>'
 *
 * Prints one JSON line (CatchupRunResult) on stdout. With `sampleMs`, the
 * memory breakdown is sampled meanwhile: RSS, the main thread's heap, its
 * external and ArrayBuffer bytes, and each worker thread's heap, so the
 * figure says where the memory is, not only how much.
 */
import { createWriteStream, readFileSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { getHeapStatistics } from 'node:v8';
import { fileURLToPath } from 'node:url';
import type { Worker } from 'node:worker_threads';
import type { JobRunner } from '../../engine/runtime/job-runner.ts';
import type { Dataset } from './kafka-data.ts';
import { runSluiceKafka, type SluiceKafkaOptions } from './kafka-sluice.ts';
import { ordersPaymentsAvailability, ordersPaymentsSettings } from './orders-payments-job.ts';

export interface CatchupRunOptions {
  brokers: string[];
  dataset: Dataset;
  workers: number;
  groupId: string;
  timeoutS: number;
  sampleMs: number;
  /**
   * Diagnostics: at this many seconds after the start, write a heap snapshot
   * of each worker thread to `<snapshotDir>/worker-<i>.heapsnapshot`.
   */
  snapshotAtS?: number;
  snapshotDir?: string;
  /** JobRunner options to run with (epoch bounds, worker heap limit, cache size); the defaults when absent. */
  runnerOptions?: SluiceKafkaOptions['runnerOptions'];
}

export interface MemorySample {
  /** Seconds since the start. */
  t: number;
  rssMiB: number;
  /** Of rssMiB: anonymous memory (heaps, malloc), and file pages mapped (LMDB's map, code). */
  anonMiB: number;
  fileMiB: number;
  mainHeapMiB: number;
  /** The main thread's heap pages held (used or not). */
  mainPhysicalMiB: number;
  mainExternalMiB: number;
  mainArrayBuffersMiB: number;
  /** Per worker thread: used heap, MiB. */
  workerHeapMiB: number[];
  /** Per worker thread: heap pages held (used or not), MiB. */
  workerPhysicalMiB: number[];
  /** Per worker thread: memory outside the heap that its objects hold (Buffers, ArrayBuffers), MiB. */
  workerExternalMiB: number[];
  /**
   * Per actor (from the workers' stats): state keys, cached state entries, undelivered epochs,
   * backpressured, checkpoints, records of the undelivered epochs, and the most records one epoch held.
   */
  actors: Record<string, [number, number, number, boolean, number, number, number]>;
}

export interface CatchupRunResult {
  records: number;
  /** First processed batch to the last record processed, seconds. */
  seconds: number;
  /** First processed batch until every record's checkpoint (output and changelog) was delivered, seconds. */
  deliveredSeconds: number;
  cpuS: number;
  /** VmHWM of this process at the end, MiB. */
  peakRssMiB: number;
  /** The sample with the highest RSS. */
  peak: MemorySample | undefined;
  outputs: Record<string, number>;
  deadLetters: Record<string, number>;
}

const MiB = 1 << 20;

function status(field: 'VmHWM' | 'VmRSS' | 'RssAnon' | 'RssFile'): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) / 1024 : process.memoryUsage.rss() / MiB;
}

const round = (x: number): number => Math.round(x * 10) / 10;

async function sample(t0: number, runner: JobRunner | undefined): Promise<MemorySample> {
  const m = process.memoryUsage();
  // The worker threads' heaps (Worker.getHeapStatistics, Node >= 24): diagnostics only.
  const workers = ((runner as unknown as { workers?: Array<{ worker?: Worker }> })?.workers ?? []).map((h) => h.worker);
  const heaps = await Promise.all(
    workers.map((w) => w?.getHeapStatistics?.().then((s) => [s.used_heap_size / MiB, s.total_physical_size / MiB, s.external_memory / MiB]).catch(() => [0, 0, 0]) ?? Promise.resolve([0, 0, 0])),
  );
  return {
    t: round((performance.now() - t0) / 1000),
    rssMiB: round(status('VmRSS')),
    anonMiB: round(status('RssAnon')),
    fileMiB: round(status('RssFile')),
    mainHeapMiB: round(m.heapUsed / MiB),
    mainPhysicalMiB: round(getHeapStatistics().total_physical_size / MiB),
    mainExternalMiB: round(m.external / MiB),
    mainArrayBuffersMiB: round(m.arrayBuffers / MiB),
    workerHeapMiB: heaps.map((h) => round(h[0])),
    workerPhysicalMiB: heaps.map((h) => round(h[1])),
    workerExternalMiB: heaps.map((h) => round(h[2])),
    actors: Object.fromEntries([...(runner?.stats ?? new Map())].map(([id, a]) => [id, [a.stateKeys, a.cachedEntries, a.undeliveredEpochs, a.backpressured, a.checkpoints, a.undeliveredRecords, a.peakEpochRecords]])),
  };
}

export async function catchupRun(o: CatchupRunOptions): Promise<CatchupRunResult> {
  const repo = fileURLToPath(new URL('../../', import.meta.url));
  const job = ordersPaymentsAvailability(repo, 'discard');
  if (job.missing) throw new Error(job.missing);
  const t0 = performance.now();
  let runner: JobRunner | undefined;
  let peak: MemorySample | undefined;
  let sampling = false;
  const timer =
    o.sampleMs > 0
      ? setInterval(() => {
          if (sampling) return;
          sampling = true;
          void sample(t0, runner)
            .then((s) => {
              if (!peak || s.rssMiB > peak.rssMiB) peak = s;
              process.stderr.write(`[catchup] ${JSON.stringify(s)}\n`);
            })
            .finally(() => (sampling = false));
        }, o.sampleMs)
      : undefined;
  const snap =
    o.snapshotAtS && o.snapshotDir
      ? setTimeout(() => {
          const workers = ((runner as unknown as { workers?: Array<{ worker?: Worker }> })?.workers ?? []).map((h) => h.worker);
          workers.forEach((w, i) => {
            void w
              ?.getHeapSnapshot()
              .then((r) => pipeline(r, createWriteStream(`${o.snapshotDir}/worker-${i}.heapsnapshot`)))
              .then(() => process.stderr.write(`[catchup] heap snapshot of worker ${i} written\n`));
          });
        }, o.snapshotAtS * 1000)
      : undefined;
  try {
    const x = await runSluiceKafka({
      jobModule: job.module!,
      settings: await ordersPaymentsSettings(job.module!, o.dataset, 'discard', {}),
      brokers: o.brokers,
      dataset: o.dataset,
      workers: o.workers,
      groupId: o.groupId,
      timeoutS: o.timeoutS,
      waitDelivered: true,
      runnerOptions: o.runnerOptions,
      onRunner: (r) => (runner = r),
    });
    return { records: x.records, seconds: x.seconds, deliveredSeconds: x.deliveredSeconds!, cpuS: x.cpuS, peakRssMiB: round(status('VmHWM')), peak, outputs: x.outputs, deadLetters: x.deadLetters };
  } finally {
    clearInterval(timer);
    clearTimeout(snap);
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  catchupRun(JSON.parse(process.argv[2]) as CatchupRunOptions).then(
    (r) => {
      process.stdout.write(JSON.stringify(r) + '\n');
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`kafka-catchup-run: ${(err as Error).stack ?? String(err)}\n`);
      process.exit(1);
    },
  );
}

/**
 * Catch-up memory: the orders-payments job (discard sink) reads a whole
 * preloaded backlog from the start with N workers, alone in a child process
 * (kafka-catchup-run.ts), and reports its peak RSS (VmHWM: every thread,
 * native memory included) beside its rates, so a change that bounds memory
 * shows what it costs in throughput. The goal (issue 19): RSS < 1 GiB with 2
 * workers for any backlog.
 *
 *   npm run bench -- kafka-catchup [--orders 2000000] [--workers 2] [--runs 1]
 *     [--workerHeapMb N] [--maxEpochRecords N] [--maxUndeliveredRecords N] [--cacheMaxEntries N] [--maxInflightBytes N]
 *
 * The last five are the JobRunner's options of those names (0 or absent: the
 * runner's default), so a bound's cost in throughput is measured beside its
 * memory.
 *
 * Rates: records over the span from the first processed batch to the last
 * record processed ("processed"), and to the moment every checkpoint
 * covering them (output and changelog) was delivered ("delivered"). The
 * data and the broker are the kafka scenario's (kafka-data.ts).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { figure, log, type Figure, type ScenarioResult } from '../bench-harness.ts';
import type { Scenario } from '../scenario.ts';
import type { CatchupRunOptions, CatchupRunResult } from './kafka-catchup-run.ts';
import { datasetFor, deleteTopics, deleteTopicsWithPrefix, preload } from './kafka-data.ts';
import { resolveBroker } from './kafka.ts';

const repo = fileURLToPath(new URL('../../', import.meta.url));

function runChild(o: CatchupRunOptions): Promise<CatchupRunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/scenarios/kafka-catchup-run.ts', JSON.stringify(o)], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.length > 1 << 20) err = err.slice(-(1 << 19));
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const line = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && line.startsWith('{')) resolve(JSON.parse(line) as CatchupRunResult);
      else reject(new Error(`kafka-catchup-run exited with ${code}: ${err.trim().split('\n').slice(-5).join(' | ')}`));
    });
  });
}

const RUNNER_OPTIONS = ['workerHeapMb', 'maxEpochRecords', 'maxUndeliveredRecords', 'cacheMaxEntries', 'maxInflightBytes'] as const;

export const kafkaCatchupScenario: Scenario = {
  name: 'kafka-catchup',
  description: 'orders-payments catching up on a Kafka backlog from the start, alone in a child process: peak RSS, processed and delivered rates',
  defaults: { orders: 2_000_000, partitions: 4, workers: 2, runs: 1, brokers: '', keepTopics: true, sampleMs: 500, timeoutS: 1800, workerHeapMb: 0, maxEpochRecords: 0, maxUndeliveredRecords: 0, cacheMaxEntries: 0, maxInflightBytes: 0 },
  async run(o): Promise<ScenarioResult> {
    const broker = await resolveBroker(o);
    const d = await preload(broker.brokers, datasetFor(Number(o.orders), Number(o.partitions)));
    const rss: number[] = [];
    const processed: number[] = [];
    const delivered: number[] = [];
    const perCpu: number[] = [];
    const notes: string[] = [];
    const stamp = Date.now().toString(36);
    const runnerOptions: NonNullable<CatchupRunOptions['runnerOptions']> = {};
    for (const k of RUNNER_OPTIONS) if (Number(o[k]) > 0) runnerOptions[k] = Number(o[k]);
    try {
      for (let r = 0; r < Number(o.runs); r++) {
        const groupId = `sluice-bench-catchup-${stamp}-${r}`;
        const x = await runChild({ brokers: broker.brokers, dataset: d, workers: Number(o.workers), groupId, timeoutS: Number(o.timeoutS), sampleMs: Number(o.sampleMs), runnerOptions }).finally(() =>
          deleteTopicsWithPrefix(broker.brokers, `${groupId}-`).catch(() => []),
        );
        rss.push(x.peakRssMiB);
        processed.push(x.records / x.seconds);
        delivered.push(x.records / x.deliveredSeconds);
        perCpu.push(x.records / x.cpuS);
        log(`kafka-catchup round ${r + 1}: peak RSS ${x.peakRssMiB} MiB, ${Math.round(x.records / x.seconds)} records/s processed, ${Math.round(x.records / x.deliveredSeconds)} delivered`);
        if (x.peak) notes.push(`Round ${r + 1}, the sample with the highest RSS: ${JSON.stringify(x.peak)}`);
      }
    } finally {
      if (!o.keepTopics) await deleteTopics(broker.brokers, [d.ordersTopic, d.paymentsTopic]).catch(() => {});
      await broker.stop?.();
    }
    const labels = { job: 'orders-payments, discard sink', records: d.total, workers: Number(o.workers) };
    const figures: Figure[] = [
      figure(labels, 'peak RSS', 'MiB', rss, { goal: { op: '<=', value: 1024, source: 'issue 19: RSS < 1 GiB with 2 workers' } }),
      figure(labels, 'records/s processed', 'records/s', processed),
      figure(labels, 'records/s delivered', 'records/s', delivered),
      figure(labels, 'records per CPU-second (to processed)', 'records/s', perCpu),
    ];
    notes.unshift(
      `${d.total.toLocaleString('en-US')} records (${d.orders.toLocaleString('en-US')} orders with duplicates, and their payments), ${d.partitions} partitions, read from offset 0 under a fresh group by a fresh process; peak RSS is that process's VmHWM.`,
      'A sample: RSS (anonymous / file pages), the main thread\'s heap and ArrayBuffers, each worker\'s used heap, heap pages held and external memory (Worker.getHeapStatistics), and per actor [state keys, cached entries, undelivered epochs, backpressured, checkpoints, undelivered records, peak epoch records].',
    );
    return { settings: { orders: d.orders, records: d.total, partitions: d.partitions, workers: o.workers, runs: o.runs, ...runnerOptions }, figures, notes };
  },
};

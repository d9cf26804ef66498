/**
 * Catch-up memory: the orders-payments job (discard sink) reads a whole
 * preloaded backlog from the start with N workers, alone in a child process
 * (kafka-catchup-run.ts), and reports its peak RSS (VmHWM: every thread,
 * native memory included) beside its rates, so a change that bounds memory
 * shows what it costs in throughput. The goal (issue 19): RSS < 1 GiB with 2
 * workers for any backlog.
 *
 *   npm run bench -- kafka-catchup [--orders 2000000] [--workers 2] [--runs 1]
 *     [--settings default,1gib]
 *     [--workerHeapMb N] [--maxEpochRecords N] [--maxUndeliveredRecords N] [--cacheMaxEntries N] [--maxInflightBytes N]
 *
 * `--settings` names the runner settings to compare (CATCHUP_SETTINGS), run
 * side by side; the last five are the JobRunner's options of those names,
 * applied on top of each (0 or absent: the setting's), so a bound's cost in
 * throughput is measured beside its memory.
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

type RunnerOptions = NonNullable<CatchupRunOptions['runnerOptions']>;

/**
 * Named settings, run side by side (`--settings default,1gib`, rounds
 * alternating). "1gib": the bounds that keep this catch-up under 1 GiB with
 * 2 workers (docs/engine.md, "Memory budget"), in `sluice run` flags:
 * --max-epoch-records 25000 --max-undelivered-records 25000
 * --cache-max-entries 5000 --worker-heap-mb 128 --max-inflight-bytes 4194304.
 */
export const CATCHUP_SETTINGS: Record<string, RunnerOptions> = {
  default: {},
  '1gib': { maxEpochRecords: 25_000, maxUndeliveredRecords: 25_000, cacheMaxEntries: 5_000, workerHeapMb: 128, maxInflightBytes: 4 << 20 },
  /** The defaults without input alignment (engine/runtime/kafka-alignment.ts): its effect, side by side. */
  unaligned: { inputAlignmentMs: 0 },
};

export const kafkaCatchupScenario: Scenario = {
  name: 'kafka-catchup',
  description: 'orders-payments catching up on a Kafka backlog from the start, alone in a child process: peak RSS, processed and delivered rates',
  defaults: { orders: 2_000_000, partitions: 4, workers: 2, runs: 1, brokers: '', keepTopics: true, sampleMs: 500, timeoutS: 1800, settings: 'default', workerHeapMb: 0, maxEpochRecords: 0, maxUndeliveredRecords: 0, cacheMaxEntries: 0, maxInflightBytes: 0 },
  async run(o): Promise<ScenarioResult> {
    const names = String(o.settings).split(',').filter(Boolean);
    for (const n of names) if (!CATCHUP_SETTINGS[n]) throw new Error(`kafka-catchup: unknown settings "${n}" (known: ${Object.keys(CATCHUP_SETTINGS).join(', ')})`);
    // Flags of the runner's options apply on top of every named setting.
    const overrides: RunnerOptions = {};
    for (const k of RUNNER_OPTIONS) if (Number(o[k]) > 0) overrides[k] = Number(o[k]);
    const broker = await resolveBroker(o);
    const d = await preload(broker.brokers, datasetFor(Number(o.orders), Number(o.partitions)));
    const by = new Map(names.map((n) => [n, { rss: [] as number[], processed: [] as number[], delivered: [] as number[], perCpu: [] as number[] }]));
    const notes: string[] = [];
    const stamp = Date.now().toString(36);
    try {
      for (let r = 0; r < Number(o.runs); r++) {
        for (const name of names) {
          const runnerOptions = { ...CATCHUP_SETTINGS[name], ...overrides };
          const groupId = `sluice-bench-catchup-${stamp}-${name}-${r}`;
          const x = await runChild({ brokers: broker.brokers, dataset: d, workers: Number(o.workers), groupId, timeoutS: Number(o.timeoutS), sampleMs: Number(o.sampleMs), runnerOptions }).finally(() =>
            deleteTopicsWithPrefix(broker.brokers, `${groupId}-`).catch(() => []),
          );
          const f = by.get(name)!;
          f.rss.push(x.peakRssMiB);
          f.processed.push(x.records / x.seconds);
          f.delivered.push(x.records / x.deliveredSeconds);
          f.perCpu.push(x.records / x.cpuS);
          log(`kafka-catchup round ${r + 1} ${name}: peak RSS ${x.peakRssMiB} MiB, ${Math.round(x.records / x.seconds)} records/s processed, ${Math.round(x.records / x.deliveredSeconds)} delivered, ${Math.round(x.records / x.cpuS)} per CPU-second`);
          if (x.peak) notes.push(`Round ${r + 1}, settings ${name} ${JSON.stringify(runnerOptions)}, the sample with the highest RSS: ${JSON.stringify(x.peak)}`);
        }
      }
    } finally {
      if (!o.keepTopics) await deleteTopics(broker.brokers, [d.ordersTopic, d.paymentsTopic]).catch(() => {});
      await broker.stop?.();
    }
    const figures: Figure[] = [];
    for (const [name, f] of by) {
      const labels = { job: 'orders-payments, discard sink', records: d.total, workers: Number(o.workers), settings: name };
      figures.push(
        figure(labels, 'peak RSS', 'MiB', f.rss, { goal: { op: '<=', value: 1024, source: 'issue 19: RSS < 1 GiB with 2 workers' } }),
        figure(labels, 'records/s processed', 'records/s', f.processed),
        figure(labels, 'records/s delivered', 'records/s', f.delivered),
        figure(labels, 'records per CPU-second (to processed)', 'records/s', f.perCpu),
      );
    }
    notes.unshift(
      `${d.total.toLocaleString('en-US')} records (${d.orders.toLocaleString('en-US')} orders with duplicates, and their payments), ${d.partitions} partitions, read from offset 0 under a fresh group by a fresh process; peak RSS is that process's VmHWM. Settings: ${names.map((n) => `${n} ${JSON.stringify({ ...CATCHUP_SETTINGS[n], ...overrides })}`).join('; ')} (JobRunner options; {} is the defaults), rounds alternating.`,
      'A sample: RSS (anonymous / file pages), the main thread\'s heap and ArrayBuffers, each worker\'s used heap, heap pages held and external memory (Worker.getHeapStatistics), and per actor [state keys, cached entries, undelivered epochs, backpressured, checkpoints, undelivered records, peak epoch records].',
    );
    return { settings: { orders: d.orders, records: d.total, partitions: d.partitions, workers: o.workers, runs: o.runs, settings: names.join(','), ...overrides }, figures, notes };
  },
};

/**
 * Nexmark from Kafka, sluice against Flink on the same topic and machine:
 * the events (the reference's generator rules, strings and split layout) are
 * loaded once into a topic as the reference's JSON (nexmark-kafka-data.ts);
 * then, per round and query, sluice's job (jobs/nexmark-kafka/, 2 worker
 * threads, keyed stages through repartition topics) and Flink 1.20 running
 * the query's SQL (bench/peers/flink/, a local mini-cluster of parallelism 2)
 * each read the whole topic. Rounds outermost, and the order of the two
 * alternates between rounds, so load from other work spreads over both.
 *
 *   events/s               events / seconds: sluice from its first processed
 *                          batch to its last; Flink from the job's RUNNING
 *                          status to its end (planning, code generation and
 *                          start-up outside, as sluice's worker start-up and
 *                          group join are)
 *   events per CPU-second  events / CPU seconds of the process over the same
 *                          span (every thread: sluice's workers and main
 *                          thread; the JVM's, from /proc/self/stat)
 *   peak RSS               sluice: the process's RSS sampled every 100 ms;
 *                          Flink: the JVM's VmHWM
 *   sluice/Flink           per round, sluice's figure over Flink's; the median
 *                          of those ratios
 */
import { figure, log, missingFigure, type Figure, type ScenarioResult } from '../bench-harness.ts';
import { buildFlinkPeer, runFlinkPeer } from '../peers/flink.ts';
import type { Scenario, ScenarioOptions } from '../scenario.ts';
import { eventsPerPartition, nexmarkGenerator } from '../../jobs/nexmark/common.ts';
import { resolveBroker } from './kafka.ts';
import { deleteTopicsWithPrefix } from './kafka-data.ts';
import { nexmarkDataSettings, nexmarkDataset, preloadNexmark, type NexmarkDataset } from './nexmark-kafka-data.ts';
import { runNexmarkKafka } from './nexmark-kafka-run.ts';

const OUT_OF_ORDERNESS_MS = 4000;

/** What each sluice job's plan is, for the tables: every keyed query is a hand-written plan. */
const PLANS: Record<string, string> = {
  q0: 'filter, map',
  q1: 'filter, map',
  q2: 'filter, map',
  q3: 'hand-written: filter+project, repartition by person id, keyed join',
  q5: 'hand-written: repartition by auction, count per (window, auction), local top, repartition by window, global top',
  q7: 'hand-written: every bid repartitioned by window, join with the running maximum (bids below it pruned)',
  q8: 'hand-written: repartition by person id, keyed window join',
};

export type Contender = 'sluice' | 'flink';

export interface Samples {
  rate: number[];
  perCpu: number[];
  rss: number[];
  perCpuFromSubmit: number[];
}

export const nexmarkKafkaScenario: Scenario = {
  name: 'nexmark-kafka',
  description: 'Nexmark q0-q8 from a Kafka topic of JSON events: sluice (2 workers, repartition topics) against Flink 1.20 SQL (parallelism 2), same topic',
  defaults: {
    events: 2_000_000,
    partitions: 4,
    eventsPerSecond: 100_000,
    runs: 2,
    queries: 'q0,q1,q2,q3,q5,q7,q8',
    contenders: 'sluice,flink',
    workers: 2,
    flinkParallelism: 2,
    flinkStateBackend: 'rocksdb',
    flinkCheckpointMs: 180_000,
    flinkHeap: '2g',
    brokers: '',
    timeoutS: 1800,
  },
  async run(o): Promise<ScenarioResult> {
    const queries = String(o.queries).split(',');
    const contenders = String(o.contenders).split(',') as Contender[];
    const runs = Number(o.runs);
    const broker = await resolveBroker(o);
    const notes: string[] = [`Broker: Kafka 3.9.1 single node at ${broker.brokers.join(',')} (${broker.source}), shared with other work on the machine.`];
    const unavailable = new Map<Contender, string>();
    const samples = new Map<string, Samples>();
    const ratios = new Map<string, { perCpu: number[]; rate: number[] }>();
    try {
      if (contenders.includes('flink')) {
        try {
          await buildFlinkPeer((m) => log(`nexmark-kafka: ${m}`));
        } catch (err) {
          unavailable.set('flink', `the Flink peer did not build: ${(err as Error).message.split('\n')[0]}`);
        }
      }
      const d = await preloadNexmark(broker.brokers, nexmarkDataset(Number(o.events), Number(o.partitions), Number(o.eventsPerSecond)));
      const s = nexmarkDataSettings(d);
      const finalWatermark = nexmarkGenerator(s).timestamp(eventsPerPartition(s) - 1) - OUT_OF_ORDERNESS_MS;
      const stamp = Date.now().toString(36);
      for (let r = 0; r < runs; r++) {
        for (const q of queries) {
          const order = r % 2 === 0 ? contenders : [...contenders].reverse();
          const round: Partial<Record<Contender, { rate: number; perCpu: number }>> = {};
          for (const c of order) {
            if (unavailable.has(c)) continue;
            const id = `${q}|${c}`;
            const x = samples.get(id) ?? { rate: [], perCpu: [], rss: [], perCpuFromSubmit: [] };
            samples.set(id, x);
            if (c === 'sluice') {
              const prefix = `sluice-bench-nexmark-${q}-${stamp}-${r}`;
              const run = await runNexmarkKafka({
                jobModule: new URL(`../../jobs/nexmark-kafka/${q}.ts`, import.meta.url).href,
                settings: { topic: d.topic, outOfOrdernessMs: OUT_OF_ORDERNESS_MS, repartitionPrefix: prefix, sink: 'discard' },
                brokers: broker.brokers,
                groupId: prefix,
                events: d.events,
                finalWatermark,
                partitions: d.partitions,
                workers: Number(o.workers),
                timeoutS: Number(o.timeoutS),
              }).finally(() => deleteTopicsWithPrefix(broker.brokers, `${prefix}-`).catch(() => []));
              round.sluice = { rate: d.events / run.seconds, perCpu: d.events / run.cpuS };
              x.rss.push(run.peakRssMiB);
              log(`nexmark-kafka round ${r + 1}/${runs} ${q} sluice: ${Math.round(round.sluice.rate)} events/s, ${Math.round(round.sluice.perCpu)} per CPU-s, ${run.seconds.toFixed(1)} s, peak RSS ${Math.round(run.peakRssMiB)} MiB, out ${JSON.stringify(run.summary.recordsOut)}`);
            } else {
              const run = await runFlinkPeer({
                brokers: broker.brokers.join(','),
                topic: d.topic,
                query: q,
                parallelism: Number(o.flinkParallelism),
                stateBackend: String(o.flinkStateBackend) === 'hashmap' ? 'hashmap' : 'rocksdb',
                checkpointMs: Number(o.flinkCheckpointMs),
                heap: String(o.flinkHeap),
                timeoutS: Number(o.timeoutS),
              });
              round.flink = { rate: d.events / (run.runningMs / 1000), perCpu: d.events / run.runningCpuS };
              x.perCpuFromSubmit.push(d.events / run.totalCpuS);
              if (run.peakRssMiB !== undefined) x.rss.push(run.peakRssMiB);
              log(`nexmark-kafka round ${r + 1}/${runs} ${q} flink: ${Math.round(round.flink.rate)} events/s, ${Math.round(round.flink.perCpu)} per CPU-s (${Math.round(d.events / run.totalCpuS)} from submission), ${(run.runningMs / 1000).toFixed(1)} s, peak RSS ${Math.round(run.peakRssMiB ?? 0)} MiB`);
            }
            x.rate.push(round[c]!.rate);
            x.perCpu.push(round[c]!.perCpu);
          }
          if (round.sluice && round.flink) {
            const rr = ratios.get(q) ?? { perCpu: [], rate: [] };
            ratios.set(q, rr);
            rr.perCpu.push(round.sluice.perCpu / round.flink.perCpu);
            rr.rate.push(round.sluice.rate / round.flink.rate);
          }
        }
      }
      notes.push(...resultNotes(d, o, queries, samples));
      const figures = resultFigures(queries, contenders, samples, ratios, unavailable, o);
      for (const [c, why] of unavailable) notes.push(`${c}: ${why}`);
      return {
        settings: { events: d.events, partitions: d.partitions, eventsPerSecond: d.eventsPerSecond, runs, queries, workers: Number(o.workers), flinkParallelism: Number(o.flinkParallelism), flinkStateBackend: String(o.flinkStateBackend), flinkCheckpointMs: Number(o.flinkCheckpointMs), preloadS: d.preloadS },
        figures,
        notes,
      };
    } finally {
      await broker.stop?.();
    }
  },
};

/** The figures of a run: per query and contender, then the sluice/Flink ratios per query. */
export function resultFigures(
  queries: readonly string[],
  contenders: readonly Contender[],
  samples: ReadonlyMap<string, Samples>,
  ratios: ReadonlyMap<string, { perCpu: number[]; rate: number[] }>,
  unavailable: ReadonlyMap<Contender, string>,
  o: ScenarioOptions,
): Figure[] {
  const figures: Figure[] = [];
  for (const q of queries) {
    for (const c of contenders) {
      const labels = { query: q, contender: c === 'sluice' ? `sluice (${Number(o.workers)} workers)` : `Flink 1.20 SQL (parallelism ${Number(o.flinkParallelism)})`, plan: c === 'sluice' ? PLANS[q] : 'Flink planner (SQL)' };
      const x = samples.get(`${q}|${c}`);
      if (!x || x.rate.length === 0) {
        figures.push(missingFigure(labels, 'events/s', 'events/s', unavailable.get(c) ?? 'not run'));
        continue;
      }
      figures.push(figure(labels, 'events/s', 'events/s', x.rate));
      figures.push(figure(labels, 'events per CPU-second', 'events/s', x.perCpu));
      if (x.rss.length) figures.push(figure(labels, 'peak RSS', 'MiB', x.rss));
    }
  }
  for (const q of queries) {
    const rr = ratios.get(q);
    const labels = { query: q };
    if (!rr) {
      figures.push(missingFigure(labels, 'sluice/Flink per CPU-second', '×', 'not measured (one of the two did not run)', { goal: { op: '>=', value: 2, source: 'issue 19' } }));
      continue;
    }
    figures.push(figure(labels, 'sluice/Flink per CPU-second', '×', rr.perCpu, { goal: { op: '>=', value: 2, source: 'issue 19' } }));
    figures.push(figure(labels, 'sluice/Flink events/s', '×', rr.rate));
  }
  return figures;
}

/** The notes of a run: the data, how each side ran, what is not like for like. */
export function resultNotes(d: NexmarkDataset, o: ScenarioOptions, queries: readonly string[], samples: ReadonlyMap<string, Samples>): string[] {
  const notes: string[] = [];
  const flinkFromSubmit = queries.map((q) => samples.get(`${q}|flink`)?.perCpuFromSubmit ?? []).filter((x) => x.length);
  notes.push(
    `${d.events.toLocaleString('en')} events in \`${d.topic}\`: ${d.partitions} partitions, partition p = the reference's split p (keys not co-partitioned), JSON with the reference's field names, strings built a character at a time; event-time rate ${Number(o.eventsPerSecond).toLocaleString('en')}/s (a 10 s window holds ${(Number(o.eventsPerSecond) * 10).toLocaleString('en')} events; the reference suite runs 10 M/s).`,
    `Both read the whole topic with a watermark 4 s behind the newest event. Flink reads to the end offsets it finds at start and then ends (its last windows fire); sluice's Kafka source does not end, so its windows ending in the last 4 s of event time (${Math.round((4 / (d.events / d.eventsPerSecond)) * 100)} % of this topic's ${d.events / d.eventsPerSecond} s) do not fire: every event is counted and joined, only those windows' output is missing.`,
    `sluice: jobs/nexmark-kafka/ (plan column: every keyed query is a hand-written plan); keyed stages go through repartition topics (JSON envelopes produced and consumed through the broker), with 1 s checkpoints to LMDB and state changelogs. Flink: the nexmark SQL (bench/peers/flink/src/main/resources/nexmark/), state backend ${String(o.flinkStateBackend)}, checkpoints every ${Number(o.flinkCheckpointMs) / 1000} s (nexmark's flink-conf: rocksdb, 180 s, so none in these runs), mini-batch 2 s / 50,000, heap ${String(o.flinkHeap)}.`,
    'Not like for like: sluice checkpoints every second (state, changelog, outbox), Flink does not checkpoint during these runs; sluice\'s shuffle goes through Kafka, Flink\'s through in-memory network buffers.',
    ...(flinkFromSubmit.length ? [`Flink from submission (planning, code generation and deployment in the CPU time), events per CPU-second: ${queries.map((q) => { const x = samples.get(`${q}|flink`)?.perCpuFromSubmit; return x?.length ? `${q} ${Math.round(x.reduce((a, b) => a + b, 0) / x.length).toLocaleString('en')}` : undefined; }).filter(Boolean).join(', ')} (mean of the rounds).`] : []),
  );
  return notes;
}

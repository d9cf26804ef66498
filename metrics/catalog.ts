/**
 * Every sluice metric: name, type, labels and meaning, in one place. The
 * worker and main-thread collectors create their families from here, and
 * test/metrics checks that metrics/README.md documents exactly this list and
 * that the dashboard and alert rules use no other `sluice_` name.
 *
 * Naming follows Prometheus conventions: `sluice_` prefix, base units in the
 * name (`_seconds`, `_bytes`, `_records`), `_total` on counters.
 *
 * `origin` says where the figure is measured: `actor` in a worker thread, per
 * partition actor; `worker` in a worker thread, per thread; `main` on the
 * main thread (Kafka consumer, job life cycle).
 */
import { ErrorCodes, SluiceError } from '../engine/errors.ts';
import { CounterFamily, GaugeFamily, HistogramFamily, type AnyFamily, type MetricFamilyJson, type MetricKind } from './families.ts';

export interface MetricDef {
  readonly name: string;
  readonly type: MetricKind;
  readonly labels: readonly string[];
  readonly help: string;
  readonly origin: 'actor' | 'worker' | 'main';
  readonly buckets?: readonly number[];
  /** Has series only once something went wrong (a failing job); absent from a healthy one. */
  readonly onlyOnFailure?: true;
}

const P = ['job', 'worker', 'partition'] as const;

/** Seconds: 5 ms to 10 min. Event-time latency of replayed or late data can be minutes. */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600] as const;
/** Seconds: 1 ms to 10 s. A checkpoint is one LMDB transaction plus fsync. */
export const CHECKPOINT_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Bytes: 1 KiB to 1 GiB in steps of 4. */
export const CHECKPOINT_SIZE_BUCKETS = Array.from({ length: 11 }, (_, i) => 1024 * 4 ** i);

export const METRICS = [
  // ---- per partition actor (worker threads) ----
  { name: 'sluice_records_in_total', type: 'counter', labels: [...P, 'source'], origin: 'actor', help: 'Records of a source partition that entered the pipeline (after decoding and validation).' },
  { name: 'sluice_records_out_total', type: 'counter', labels: [...P, 'sink'], origin: 'actor', help: 'Records the pipeline emitted to a sink (counted when emitted; delivery follows the checkpoint).' },
  { name: 'sluice_dead_letters_total', type: 'counter', labels: [...P, 'reason'], origin: 'actor', help: 'Records sent to the dead-letter destination, by reason.' },
  {
    name: 'sluice_operator_events_total',
    type: 'counter',
    labels: [...P, 'operator', 'event'],
    origin: 'actor',
    help: 'Events operators count with ctx.count(name, n): join matches, unmatched rows, dropped duplicates, late window events, dropped side outputs.',
  },
  { name: 'sluice_checkpoints_total', type: 'counter', labels: P, origin: 'actor', help: 'Checkpoints committed.' },
  {
    name: 'sluice_checkpoint_duration_seconds',
    type: 'histogram',
    labels: P,
    origin: 'actor',
    buckets: CHECKPOINT_DURATION_BUCKETS,
    help: 'Time to take a checkpoint: operators prepare, then one durable LMDB transaction.',
  },
  { name: 'sluice_checkpoint_size_bytes', type: 'histogram', labels: P, origin: 'actor', buckets: CHECKPOINT_SIZE_BUCKETS, help: 'Bytes written by one checkpoint (state, outbox, checkpoint record).' },
  {
    name: 'sluice_last_checkpoint_timestamp_seconds',
    type: 'gauge',
    labels: P,
    origin: 'actor',
    help: "Unix time of the partition's last checkpoint (an idle partition counts as checkpointed); its start time before the first.",
  },
  { name: 'sluice_state_keys', type: 'gauge', labels: P, origin: 'actor', help: 'Keyed state entries of the partition (all its operators), as of the last checkpoint.' },
  { name: 'sluice_state_bytes', type: 'gauge', labels: P, origin: 'actor', help: 'Bytes of keyed state values of the partition, as of the last checkpoint.' },
  { name: 'sluice_operator_state_keys', type: 'gauge', labels: [...P, 'operator'], origin: 'actor', help: 'Keyed state entries of one operator in the partition, as of the last checkpoint.' },
  { name: 'sluice_operator_state_bytes', type: 'gauge', labels: [...P, 'operator'], origin: 'actor', help: 'Bytes of keyed state values of one operator in the partition, as of the last checkpoint.' },
  { name: 'sluice_state_cache_entries', type: 'gauge', labels: P, origin: 'actor', help: 'State entries held in memory by the partition.' },
  { name: 'sluice_outbox_undelivered_epochs', type: 'gauge', labels: P, origin: 'actor', help: 'Checkpointed epochs whose output the sinks have not acknowledged yet.' },
  { name: 'sluice_watermark_timestamp_seconds', type: 'gauge', labels: P, origin: 'actor', help: "The partition's event-time watermark, Unix time (absent before the first)." },
  {
    name: 'sluice_restore_records',
    type: 'gauge',
    labels: P,
    origin: 'actor',
    help: "Changelog records read by the partition's latest restore of its state, in progress or done (absent if it did not restore).",
  },
  { name: 'sluice_restore_records_expected', type: 'gauge', labels: P, origin: 'actor', help: "Changelog records the partition's latest restore reads in all: estimated from the changelogs' end offsets while it runs, the records read once done." },
  { name: 'sluice_restore_duration_seconds', type: 'gauge', labels: P, origin: 'actor', help: "How long the partition's latest restore took, or has taken so far." },
  { name: 'sluice_restores_total', type: 'counter', labels: P, origin: 'actor', help: 'Restores of the partition from its changelog completed on this worker.' },
  {
    name: 'sluice_backpressure_seconds_total',
    type: 'counter',
    labels: P,
    origin: 'actor',
    help: "Time the partition's input was held back because its sinks were behind (undelivered epochs or a full outbox).",
  },
  {
    name: 'sluice_processing_latency_seconds',
    type: 'histogram',
    labels: [...P, 'sink'],
    origin: 'actor',
    buckets: LATENCY_BUCKETS,
    help: "Wall-clock time from a record's emission to a sink until the sink acknowledged it (checkpoint plus delivery).",
  },
  {
    name: 'sluice_event_time_latency_seconds',
    type: 'histogram',
    labels: [...P, 'sink'],
    origin: 'actor',
    buckets: LATENCY_BUCKETS,
    help: "Time from a record's event timestamp until the sink acknowledged it.",
  },
  { name: 'sluice_sink_errors_total', type: 'counter', labels: [...P, 'sink'], origin: 'actor', help: 'Failed delivery attempts to a sink.' },
  { name: 'sluice_sink_retries_total', type: 'counter', labels: [...P, 'sink'], origin: 'actor', help: 'Delivery attempts retried after a retryable failure.' },
  // ---- per worker thread ----
  { name: 'sluice_worker_busy_seconds_total', type: 'counter', labels: ['job', 'worker'], origin: 'worker', help: "Time the worker thread's event loop was busy; its rate is the thread's utilization." },
  { name: 'sluice_worker_heap_used_bytes', type: 'gauge', labels: ['job', 'worker'], origin: 'worker', help: "V8 heap in use by the worker thread's isolate." },
  // ---- main thread ----
  { name: 'sluice_consumer_lag_records', type: 'gauge', labels: [...P, 'topic'], origin: 'main', help: "Records in a Kafka partition beyond the job's position (high watermark minus next offset)." },
  { name: 'sluice_mailbox_records', type: 'gauge', labels: P, origin: 'main', help: "Records posted to the partition's worker thread and not processed yet (Kafka input)." },
  { name: 'sluice_source_paused_seconds_total', type: 'counter', labels: P, origin: 'main', help: 'Time the Kafka consumer kept the partition paused for backpressure.' },
  { name: 'sluice_rebalances_total', type: 'counter', labels: ['job'], origin: 'main', help: 'Consumer group rebalances this process took part in.' },
  { name: 'sluice_input_alignment_holds_total', type: 'counter', labels: ['job'], origin: 'main', help: "Times a partition's Kafka input was held for being ahead of another input of the partition in record time (input alignment)." },
  { name: 'sluice_job_state', type: 'gauge', labels: ['job', 'state'], origin: 'main', help: "1 for the job's current life-cycle state, 0 for the others." },
  {
    name: 'sluice_job_failures_total',
    type: 'counter',
    labels: ['job', 'component', 'partition'],
    origin: 'main',
    onlyOnFailure: true,
    help: "Failures that ended the job, by the component that failed (operator, source, sink, kafka, worker) and its partition ('' for none).",
  },
  {
    name: 'sluice_metrics_worker_errors_total',
    type: 'counter',
    labels: ['job', 'worker'],
    origin: 'main',
    help: "Scrapes in which a worker thread did not answer in time; that worker's series were missing from the scrape.",
  },
] as const satisfies readonly MetricDef[];

export type MetricName = (typeof METRICS)[number]['name'];

/**
 * The families of some origins, by name, with typed accessors. A worker
 * thread holds one set for `actor` and `worker` metrics, the main thread one
 * for `main` metrics.
 */
export class MetricSet {
  private readonly families = new Map<string, AnyFamily>();

  constructor(origins: ReadonlyArray<MetricDef['origin']>) {
    for (const d of METRICS as readonly MetricDef[]) {
      if (!origins.includes(d.origin)) continue;
      const f =
        d.type === 'counter'
          ? new CounterFamily(d.name, d.help, d.labels)
          : d.type === 'gauge'
            ? new GaugeFamily(d.name, d.help, d.labels)
            : new HistogramFamily(d.name, d.help, d.labels, d.buckets!);
      this.families.set(d.name, f);
    }
  }

  counter(name: MetricName): CounterFamily {
    return this.get(name, CounterFamily);
  }

  gauge(name: MetricName): GaugeFamily {
    return this.get(name, GaugeFamily);
  }

  histogram(name: MetricName): HistogramFamily {
    return this.get(name, HistogramFamily);
  }

  toJSON(): MetricFamilyJson[] {
    return [...this.families.values()].map((f) => f.toJSON());
  }

  private get<F extends AnyFamily>(name: string, kind: abstract new (...args: never[]) => F): F {
    const f = this.families.get(name);
    if (!(f instanceof kind)) throw new SluiceError(ErrorCodes.INTERNAL, `metric ${name} is not a ${kind.name} of this set`);
    return f;
  }
}

/**
 * The metrics of one partition actor, inside its worker thread.
 *
 * Two kinds of input:
 *  - The actor's own counters (ActorCounters, as ActorStats) are copied into
 *    the families at scrape time (`sync`): the hot path keeps incrementing
 *    plain numbers and pays nothing for metrics. Counters are exported as
 *    running totals: when a partition closes and opens again on this worker,
 *    its new actor counts from zero, and `sync` adds only what is new, so the
 *    exported series never goes backwards.
 *  - Hooks (ActorObserver) for what counters cannot hold: latency
 *    distributions, checkpoint durations and sizes, sink errors, and the time
 *    spent backpressured. They run per batch, per checkpoint or per delivery.
 *
 * Latencies, both ending when the sink acknowledges the record:
 *  - processing time starts when the record was emitted to the sink node
 *    (wall clock). Operators run synchronously, so for a record-at-a-time
 *    pipeline this is also when its input arrived; for aggregations it is
 *    when the result was produced. What it measures is the checkpoint and
 *    delivery delay the outbox adds. Records redelivered after a restart have
 *    no emission time and are left out.
 *  - event time starts at the record's event timestamp (SinkRecord.time).
 *    Only records that have one count: the internal changelog sink's markers
 *    and state writes carry time 0, and as "latency" they would read decades
 *    (the top bucket), so they are left out, as is any record with time <= 0.
 * Direct sinks (discard) acknowledge at emission. The dead-letter destination
 * is left out of the latency histograms: dead letters have their own counter.
 *
 * Restores (a partition rebuilding its state from its changelog, changelog.ts)
 * are reported by the worker through restoreProgress() and restored(): the
 * latest restore's records read, records expected and duration stay exported
 * until the actor closes.
 */
import type { ActorObserver } from '../engine/runtime/partition-actor.ts';
import type { ActorStats } from '../engine/runtime/protocol.ts';
import { DEAD_LETTER_SINK } from '../engine/runtime/topology.ts';
import { CHANGELOG_SINK } from '../engine/runtime/changelog.ts';
import type { SinkRecord } from '../engine/contracts/sinks.ts';
import type { MetricSet } from './catalog.ts';
import type { HistogramChild, Labels, ScalarChild } from './families.ts';

/**
 * Distinct dead-letter reasons and operator events kept per actor; beyond
 * this they are counted under "other", so a reason built from record data
 * cannot blow up the series count.
 */
export const MAX_DYNAMIC_LABELS = 64;
export const OVERFLOW_LABEL = 'other';

/** Emission times of one epoch's records for one sink: [time, count, time, count, ...]. */
type Emissions = number[];

interface LatencyChildren {
  processing: HistogramChild;
  eventTime: HistogramChild;
}

interface SinkErrorChildren {
  errors: ScalarChild;
  retries: ScalarChild;
}

export class ActorMetrics implements ActorObserver {
  private readonly base: Labels;
  private readonly recordsIn: ScalarChild[];
  private readonly recordsOut = new Map<string, ScalarChild>();
  private readonly deadLetters = new Map<string, ScalarChild>();
  private readonly opEvents = new Map<string, ScalarChild>();
  /** Operators whose state gauges this partition exported (removed on close). */
  private readonly stateOperators = new Set<string>();
  private readonly latency = new Map<string, LatencyChildren>();
  private readonly sinkErrors = new Map<string, SinkErrorChildren>();
  private readonly checkpoints: ScalarChild;
  private readonly checkpointDuration: HistogramChild;
  private readonly checkpointSize: HistogramChild;
  private readonly backpressure: ScalarChild;
  /** Totals already exported, per actor counter ("in:0", "dl:<reason>", ...), to add only what is new. */
  private readonly seen = new Map<string, number>();
  private readonly pending = new Map<number, Map<string, Emissions>>();
  private probe: (() => boolean) | undefined;
  /** When the current backpressure episode began (wall clock, ms), or -1. */
  private pressedSince = -1;
  private readonly openedAt: number;
  private readonly restores: ScalarChild;
  /** The latest restore of this actor's partition (times in ms). */
  private restore: { startedAt: number; endedAt?: number; records: number; total: number } | undefined;

  constructor(
    private readonly set: MetricSet,
    job: string,
    worker: number,
    partition: number,
    private readonly sourceIds: readonly string[],
    sinkIds: readonly string[],
    private readonly now: () => number = Date.now,
  ) {
    this.base = Object.freeze({ job, worker: String(worker), partition: String(partition) });
    this.openedAt = now();
    const b = this.base;
    this.recordsIn = sourceIds.map((source) => set.counter('sluice_records_in_total').bind({ ...b, source }));
    // Bound up front so every sink's series exist (at zero) from the start.
    for (const sink of sinkIds) {
      this.errorChildren(sink);
      if (sink === DEAD_LETTER_SINK) continue;
      this.latencyChildren(sink);
      this.recordsOut.set(sink, set.counter('sluice_records_out_total').bind({ ...b, sink }));
    }
    this.checkpoints = set.counter('sluice_checkpoints_total').bind(b);
    this.checkpointDuration = set.histogram('sluice_checkpoint_duration_seconds').bind(b);
    this.checkpointSize = set.histogram('sluice_checkpoint_size_bytes').bind(b);
    this.backpressure = set.counter('sluice_backpressure_seconds_total').bind(b);
    this.restores = set.counter('sluice_restores_total').bind(b);
  }

  // ---- restores (called by the worker) -------------------------------------------

  /** A restore from the changelog is under way: `records` read of `total` expected. */
  restoreProgress(records: number, total: number): void {
    if (this.restore === undefined || this.restore.endedAt !== undefined) this.restore = { startedAt: this.now(), records: 0, total: 0 };
    this.restore.records = records;
    this.restore.total = total;
  }

  /** The restore finished, having read `records` changelog records. */
  restored(records: number): void {
    const r = (this.restore ??= { startedAt: this.now(), records: 0, total: 0 });
    // The expected count came from end offsets, which also count the transactions' commit markers.
    r.records = records;
    r.total = records;
    r.endedAt = this.now();
    this.restores.inc();
  }

  /** Where to read whether the actor is backpressured (set once the actor exists). */
  watch(probe: () => boolean): void {
    this.probe = probe;
  }

  // ---- ActorObserver ---------------------------------------------------------

  emitted(sinkId: string, epoch: number, times: readonly number[], direct: boolean): void {
    this.pressure();
    if (sinkId === DEAD_LETTER_SINK || times.length === 0) return;
    const now = this.now();
    if (direct) {
      const s = this.latencyChildren(sinkId);
      s.processing.observeN(0, times.length);
      for (let i = 0; i < times.length; i++) if (times[i] > 0) s.eventTime.observe(seconds(now - times[i]));
      return;
    }
    let bySink = this.pending.get(epoch);
    if (!bySink) this.pending.set(epoch, (bySink = new Map()));
    let list = bySink.get(sinkId);
    if (!list) bySink.set(sinkId, (list = []));
    // Batches emitted within one millisecond share an entry.
    if (list.length > 0 && list[list.length - 2] === now) list[list.length - 1] += times.length;
    else list.push(now, times.length);
  }

  checkpointed(_epoch: number, durationMs: number, bytes: number): void {
    this.checkpointDuration.observe(durationMs / 1000);
    this.checkpointSize.observe(bytes);
    this.pressure();
  }

  delivered(sinkId: string, epoch: number, records: readonly SinkRecord[]): void {
    if (sinkId === DEAD_LETTER_SINK || sinkId === CHANGELOG_SINK) return;
    const now = this.now();
    const s = this.latencyChildren(sinkId);
    for (let i = 0; i < records.length; i++) if (records[i].time > 0) s.eventTime.observe(seconds(now - records[i].time));
    const bySink = this.pending.get(epoch);
    const list = bySink?.get(sinkId);
    if (!list) return;
    for (let i = 0; i < list.length; i += 2) s.processing.observeN(seconds(now - list[i]), list[i + 1]);
    bySink!.delete(sinkId);
    if (bySink!.size === 0) this.pending.delete(epoch);
  }

  epochDelivered(epoch: number): void {
    // An epoch whose entries never reached delivered() (nothing but dead letters) leaves nothing behind.
    for (const e of this.pending.keys()) if (e <= epoch) this.pending.delete(e);
    this.pressure();
  }

  deliveryFailed(sinkId: string, retrying: boolean): void {
    const s = this.errorChildren(sinkId);
    s.errors.inc();
    if (retrying) s.retries.inc();
  }

  // ---- scrape time -------------------------------------------------------------

  /** Copies the actor's counters and gauges into the families. */
  sync(st: ActorStats): void {
    const set = this.set;
    const b = this.base;
    for (let i = 0; i < this.recordsIn.length; i++) this.add(`in:${i}`, this.recordsIn[i], st.recordsIn[i] ?? 0);
    for (const [sink, n] of Object.entries(st.recordsOut)) {
      let c = this.recordsOut.get(sink);
      if (!c) this.recordsOut.set(sink, (c = set.counter('sluice_records_out_total').bind({ ...b, sink })));
      this.add(`out:${sink}`, c, n);
    }
    for (const [reason, n] of Object.entries(st.deadLetters)) {
      const c = this.dynamic(this.deadLetters, reason, () => set.counter('sluice_dead_letters_total').bind({ ...b, reason: this.capped(this.deadLetters, reason) }));
      this.add(`dl:${reason}`, c, n);
    }
    for (const [key, n] of Object.entries(st.operatorCounts)) {
      this.add(`op:${key}`, this.dynamic(this.opEvents, key, () => this.opEventChild(key)), n);
    }
    this.add('checkpoints', this.checkpoints, st.checkpoints);
    // An ongoing backpressure episode counts up to now.
    this.pressure();
    if (this.pressedSince >= 0) {
      const now = this.now();
      this.backpressure.inc((now - this.pressedSince) / 1000);
      this.pressedSince = now;
    }
    set.gauge('sluice_last_checkpoint_timestamp_seconds').bind(b).set((st.lastCheckpointAt || this.openedAt) / 1000);
    set.gauge('sluice_state_keys').bind(b).set(st.stateKeys);
    set.gauge('sluice_state_bytes').bind(b).set(st.stateBytes);
    for (const [operator, [keys, bytes]] of Object.entries(st.stateByOperator ?? {})) {
      this.stateOperators.add(operator);
      set.gauge('sluice_operator_state_keys').bind({ ...b, operator }).set(keys);
      set.gauge('sluice_operator_state_bytes').bind({ ...b, operator }).set(bytes);
    }
    set.gauge('sluice_state_cache_entries').bind(b).set(st.cachedEntries);
    set.gauge('sluice_outbox_undelivered_epochs').bind(b).set(st.undeliveredEpochs);
    if (Number.isFinite(st.watermark)) set.gauge('sluice_watermark_timestamp_seconds').bind(b).set(st.watermark / 1000);
    const r = this.restore;
    if (r) {
      set.gauge('sluice_restore_records').bind(b).set(r.records);
      set.gauge('sluice_restore_records_expected').bind(b).set(r.total);
      set.gauge('sluice_restore_duration_seconds').bind(b).set(((r.endedAt ?? this.now()) - r.startedAt) / 1000);
    }
  }

  /**
   * The actor closed: final counters in, and its gauges out of the export
   * (another worker or process owns the partition now, or nobody does).
   * Counters and histograms stay: they are running totals.
   */
  close(final: ActorStats | undefined): void {
    if (final) this.sync(final);
    for (const operator of this.stateOperators) {
      this.set.gauge('sluice_operator_state_keys').remove({ ...this.base, operator });
      this.set.gauge('sluice_operator_state_bytes').remove({ ...this.base, operator });
    }
    for (const name of ['sluice_last_checkpoint_timestamp_seconds', 'sluice_state_keys', 'sluice_state_bytes', 'sluice_state_cache_entries', 'sluice_outbox_undelivered_epochs', 'sluice_watermark_timestamp_seconds', 'sluice_restore_records', 'sluice_restore_records_expected', 'sluice_restore_duration_seconds'] as const) {
      this.set.gauge(name).remove(this.base);
    }
    this.pending.clear();
  }

  // ---- helpers ---------------------------------------------------------------

  private add(key: string, c: ScalarChild, total: number): void {
    const prev = this.seen.get(key) ?? 0;
    if (total > prev) c.inc(total - prev);
    this.seen.set(key, total);
  }

  private pressure(): void {
    const on = this.probe?.() ?? false;
    if (on === this.pressedSince >= 0) return;
    const now = this.now();
    if (on) this.pressedSince = now;
    else {
      this.backpressure.inc((now - this.pressedSince) / 1000);
      this.pressedSince = -1;
    }
  }

  private latencyChildren(sink: string): LatencyChildren {
    let s = this.latency.get(sink);
    if (!s) {
      const l = { ...this.base, sink };
      s = {
        processing: this.set.histogram('sluice_processing_latency_seconds').bind(l),
        eventTime: this.set.histogram('sluice_event_time_latency_seconds').bind(l),
      };
      this.latency.set(sink, s);
    }
    return s;
  }

  private errorChildren(sink: string): SinkErrorChildren {
    let s = this.sinkErrors.get(sink);
    if (!s) {
      const l = { ...this.base, sink };
      s = { errors: this.set.counter('sluice_sink_errors_total').bind(l), retries: this.set.counter('sluice_sink_retries_total').bind(l) };
      this.sinkErrors.set(sink, s);
    }
    return s;
  }

  /**
   * Operator counters arrive keyed "<operator>:<event>" (PartitionActor.count).
   * Operator ids come first and are split at the first colon.
   */
  private opEventChild(key: string): ScalarChild {
    const colon = key.indexOf(':');
    const capped = this.capped(this.opEvents, key);
    const operator = capped === OVERFLOW_LABEL || colon < 0 ? OVERFLOW_LABEL : key.slice(0, colon);
    const event = capped === OVERFLOW_LABEL || colon < 0 ? OVERFLOW_LABEL : key.slice(colon + 1);
    return this.set.counter('sluice_operator_events_total').bind({ ...this.base, operator, event });
  }

  private dynamic(map: Map<string, ScalarChild>, key: string, make: () => ScalarChild): ScalarChild {
    let c = map.get(key);
    if (!c) map.set(key, (c = make()));
    return c;
  }

  private capped(map: Map<string, ScalarChild>, value: string): string {
    return map.size < MAX_DYNAMIC_LABELS ? value : OVERFLOW_LABEL;
  }
}

/** Milliseconds to seconds, clamped at 0 (an event time in the future is not a negative latency). */
function seconds(ms: number): number {
  return ms > 0 ? ms / 1000 : 0;
}

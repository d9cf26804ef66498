/**
 * One actor's metrics: counters copied from the actor at scrape time, the
 * observer hooks (latency, checkpoints, sink errors, backpressure), and what
 * survives the actor closing and opening again.
 */
import { describe, expect, it } from 'vitest';
import { MAX_DYNAMIC_LABELS, OVERFLOW_LABEL } from '../../metrics/actor-metrics.ts';
import { WorkerMetrics } from '../../metrics/worker-metrics.ts';
import type { MetricFamilyJson } from '../../metrics/families.ts';
import { DEAD_LETTER_SINK } from '../../engine/runtime/topology.ts';
import { CHANGELOG_SINK } from '../../engine/runtime/changelog.ts';
import { stats } from './stats.ts';

function value(json: MetricFamilyJson[], name: string, labels: Record<string, string | number>, metricName?: string): number | undefined {
  const f = json.find((x) => x.name === name);
  const v = f?.values.find((s) => (metricName === undefined || s.metricName === metricName) && Object.entries(labels).every(([k, x]) => s.labels[k] === x));
  return v?.value;
}

function clock(start = 1_000_000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance: (ms) => (t += ms) };
}

const P0 = { job: 'j', worker: '0', partition: '0' };

describe('actor metrics', () => {
  it('exports the actor counters, and keeps counting up when the partition closes and opens again', () => {
    const w = new WorkerMetrics('j', 0);
    w.openActor('p0', 0, ['orders', 'payments'], ['out']);
    let json = w.collect([stats('p0', { recordsIn: [5, 7], recordsOut: { out: 3 }, deadLetters: { bad: 1 }, operatorCounts: { 'join:matched': 4 }, checkpoints: 2 })]);
    expect(value(json, 'sluice_records_in_total', { ...P0, source: 'orders' })).toBe(5);
    expect(value(json, 'sluice_records_in_total', { ...P0, source: 'payments' })).toBe(7);
    expect(value(json, 'sluice_records_out_total', { ...P0, sink: 'out' })).toBe(3);
    expect(value(json, 'sluice_dead_letters_total', { ...P0, reason: 'bad' })).toBe(1);
    expect(value(json, 'sluice_operator_events_total', { ...P0, operator: 'join', event: 'matched' })).toBe(4);
    expect(value(json, 'sluice_checkpoints_total', P0)).toBe(2);
    // A second scrape with the same totals adds nothing.
    json = w.collect([stats('p0', { recordsIn: [5, 7], recordsOut: { out: 3 }, checkpoints: 2 })]);
    expect(value(json, 'sluice_records_in_total', { ...P0, source: 'orders' })).toBe(5);

    w.closeActor('p0', stats('p0', { recordsIn: [6, 7], recordsOut: { out: 3 }, checkpoints: 3, stateKeys: 9 }));
    json = w.collect([]);
    expect(value(json, 'sluice_records_in_total', { ...P0, source: 'orders' })).toBe(6);
    expect(value(json, 'sluice_checkpoints_total', P0)).toBe(3);
    // Gauges of a partition this worker no longer runs are gone.
    expect(value(json, 'sluice_state_keys', P0)).toBeUndefined();
    expect(value(json, 'sluice_last_checkpoint_timestamp_seconds', P0)).toBeUndefined();

    // The new actor counts from zero; the exported counter continues from 6.
    w.openActor('p0', 0, ['orders', 'payments'], ['out']);
    json = w.collect([stats('p0', { recordsIn: [4, 0], checkpoints: 1 })]);
    expect(value(json, 'sluice_records_in_total', { ...P0, source: 'orders' })).toBe(10);
    expect(value(json, 'sluice_checkpoints_total', P0)).toBe(4);
  });

  it('exports gauges from the actor, with the open time as checkpoint time before the first checkpoint', () => {
    const c = clock(1_700_000_000_000);
    const w = new WorkerMetrics('j', 0, c.now);
    w.openActor('p0', 0, ['events'], ['out']);
    let json = w.collect([stats('p0', { stateKeys: 3, stateBytes: 120, cachedEntries: 2, undeliveredEpochs: 1 })]);
    expect(value(json, 'sluice_last_checkpoint_timestamp_seconds', P0)).toBe(1_700_000_000);
    expect(value(json, 'sluice_state_keys', P0)).toBe(3);
    expect(value(json, 'sluice_state_bytes', P0)).toBe(120);
    expect(value(json, 'sluice_state_cache_entries', P0)).toBe(2);
    expect(value(json, 'sluice_outbox_undelivered_epochs', P0)).toBe(1);
    expect(value(json, 'sluice_watermark_timestamp_seconds', P0)).toBeUndefined();
    json = w.collect([stats('p0', { lastCheckpointAt: 1_700_000_005_500, watermark: 1_699_999_999_000 })]);
    expect(value(json, 'sluice_last_checkpoint_timestamp_seconds', P0)).toBe(1_700_000_005.5);
    expect(value(json, 'sluice_watermark_timestamp_seconds', P0)).toBe(1_699_999_999);
  });

  it('observes processing-time latency from emission to acknowledgement, and event-time latency from the record time', () => {
    const c = clock();
    const w = new WorkerMetrics('j', 0, c.now);
    const a = w.openActor('p0', 0, ['events'], ['out']);
    const t0 = c.now();
    a.emitted('out', 1, [t0 - 2_000, t0 - 2_000, t0 - 2_000], false);
    c.advance(300);
    a.emitted('out', 1, [t0], false);
    c.advance(400);
    // The checkpoint made epoch 1 durable; the sink acknowledges 700 ms after the first emission.
    a.delivered('out', 1, [0, 1, 2, 3].map((i) => ({ id: `0-1-${i}`, key: null, value: i, time: i < 3 ? t0 - 2_000 : t0 })));
    a.epochDelivered(1);
    const json = w.collect([stats('p0')]);
    const L = { ...P0, sink: 'out' };
    const proc = (le: number | string) => value(json, 'sluice_processing_latency_seconds', { ...L, le }, 'sluice_processing_latency_seconds_bucket');
    expect(proc(0.25)).toBe(0);
    expect(proc(0.5)).toBe(1); // the record emitted 400 ms before the ack
    expect(proc(1)).toBe(4); // and the three emitted 700 ms before
    expect(value(json, 'sluice_processing_latency_seconds', L, 'sluice_processing_latency_seconds_sum')).toBeCloseTo(0.4 + 3 * 0.7);
    const ev = (le: number | string) => value(json, 'sluice_event_time_latency_seconds', { ...L, le }, 'sluice_event_time_latency_seconds_bucket');
    expect(ev(0.5)).toBe(0);
    expect(ev(1)).toBe(1); // event time t0, acknowledged 700 ms later
    expect(ev(2.5)).toBe(1);
    expect(ev(5)).toBe(4); // event time t0 - 2 s, acknowledged 2.7 s later
    expect(value(json, 'sluice_event_time_latency_seconds', L, 'sluice_event_time_latency_seconds_count')).toBe(4);
  });

  it('counts a direct sink as acknowledged at emission, and leaves dead letters out of the latency histograms', () => {
    const c = clock();
    const w = new WorkerMetrics('j', 0, c.now);
    const a = w.openActor('p0', 0, ['events'], ['discard', DEAD_LETTER_SINK]);
    a.emitted('discard', 1, [c.now() - 30, c.now() - 30], true);
    a.emitted(DEAD_LETTER_SINK, 1, [c.now()], false);
    a.delivered(DEAD_LETTER_SINK, 1, [{ id: 'x', key: null, value: 1, time: c.now() - 5_000 }]);
    const json = w.collect([stats('p0')]);
    const D = { ...P0, sink: 'discard' };
    expect(value(json, 'sluice_processing_latency_seconds', { ...D, le: 0.005 }, 'sluice_processing_latency_seconds_bucket')).toBe(2);
    expect(value(json, 'sluice_event_time_latency_seconds', { ...D, le: 0.025 }, 'sluice_event_time_latency_seconds_bucket')).toBe(0);
    expect(value(json, 'sluice_event_time_latency_seconds', { ...D, le: 0.05 }, 'sluice_event_time_latency_seconds_bucket')).toBe(2);
    const latencySinks = json.find((f) => f.name === 'sluice_event_time_latency_seconds')!.values.map((v) => v.labels.sink);
    expect(new Set(latencySinks)).toEqual(new Set(['discard']));
    // Sink error series exist for every sink from the start, the dead-letter sink included.
    expect(value(json, 'sluice_sink_errors_total', { ...P0, sink: DEAD_LETTER_SINK })).toBe(0);
    expect(value(json, 'sluice_records_out_total', { ...P0, sink: DEAD_LETTER_SINK })).toBeUndefined();
  });

  it('counts event-time latency only for records that have an event time: not the changelog markers and writes (time 0)', () => {
    const c = clock(1_700_000_000_000);
    const w = new WorkerMetrics('j', 0, c.now);
    const a = w.openActor('p0', 0, ['events'], ['out']);
    a.emitted('out', 1, [c.now() - 200], false);
    c.advance(300);
    a.delivered(CHANGELOG_SINK, 1, [{ id: '', key: null, value: { m: {} }, time: 0 }, { id: '', key: null, value: { d: 'state' }, time: 0 }]);
    a.delivered('out', 1, [{ id: 'a', key: null, value: 1, time: c.now() - 500 }, { id: 'b', key: null, value: 2, time: 0 }]);
    a.epochDelivered(1);
    const json = w.collect([stats('p0')]);
    const ev = json.find((f) => f.name === 'sluice_event_time_latency_seconds')!.values;
    expect(new Set(ev.map((v) => v.labels.sink))).toEqual(new Set(['out']));
    const L = { ...P0, sink: 'out' };
    expect(value(json, 'sluice_event_time_latency_seconds', L, 'sluice_event_time_latency_seconds_count')).toBe(1);
    expect(value(json, 'sluice_event_time_latency_seconds', { ...L, le: 0.5 }, 'sluice_event_time_latency_seconds_bucket')).toBe(1);
    expect(value(json, 'sluice_processing_latency_seconds', L, 'sluice_processing_latency_seconds_count')).toBe(1);
  });

  it('exports restore progress while a partition restores from its changelog, then the restore duration, until the actor closes', () => {
    const c = clock(1_700_000_000_000);
    const w = new WorkerMetrics('j', 0, c.now);
    const a = w.openActor('p0', 0, ['events'], ['out']);
    let json = w.collect([stats('p0')]);
    expect(value(json, 'sluice_restore_records', P0)).toBeUndefined();
    expect(value(json, 'sluice_restores_total', P0)).toBe(0);
    a.restoreProgress(250, 1000);
    c.advance(1_500);
    json = w.collect([stats('p0')]);
    expect(value(json, 'sluice_restore_records', P0)).toBe(250);
    expect(value(json, 'sluice_restore_records_expected', P0)).toBe(1000);
    expect(value(json, 'sluice_restore_duration_seconds', P0)).toBeCloseTo(1.5);
    expect(value(json, 'sluice_restores_total', P0)).toBe(0);
    c.advance(500);
    a.restored(1000);
    c.advance(10_000);
    json = w.collect([stats('p0')]);
    expect(value(json, 'sluice_restore_records', P0)).toBe(1000);
    expect(value(json, 'sluice_restore_records_expected', P0)).toBe(1000);
    expect(value(json, 'sluice_restore_duration_seconds', P0)).toBeCloseTo(2);
    expect(value(json, 'sluice_restores_total', P0)).toBe(1);
    w.closeActor('p0', stats('p0'));
    json = w.collect([]);
    expect(value(json, 'sluice_restore_records', P0)).toBeUndefined();
    expect(value(json, 'sluice_restore_duration_seconds', P0)).toBeUndefined();
    expect(value(json, 'sluice_restores_total', P0)).toBe(1);
  });

  it('counts checkpoint durations and sizes, sink errors and retries', () => {
    const w = new WorkerMetrics('j', 0);
    const a = w.openActor('p0', 0, ['events'], ['out']);
    a.checkpointed(1, 3, 2_000);
    a.checkpointed(2, 40, 70_000);
    a.deliveryFailed('out', true);
    a.deliveryFailed('out', true);
    a.deliveryFailed('out', false);
    const json = w.collect([stats('p0')]);
    expect(value(json, 'sluice_checkpoint_duration_seconds', { ...P0, le: 0.005 }, 'sluice_checkpoint_duration_seconds_bucket')).toBe(1);
    expect(value(json, 'sluice_checkpoint_duration_seconds', { ...P0, le: 0.05 }, 'sluice_checkpoint_duration_seconds_bucket')).toBe(2);
    expect(value(json, 'sluice_checkpoint_duration_seconds', P0, 'sluice_checkpoint_duration_seconds_sum')).toBeCloseTo(0.043);
    expect(value(json, 'sluice_checkpoint_size_bytes', { ...P0, le: 4096 }, 'sluice_checkpoint_size_bytes_bucket')).toBe(1);
    expect(value(json, 'sluice_checkpoint_size_bytes', { ...P0, le: 65536 }, 'sluice_checkpoint_size_bytes_bucket')).toBe(1);
    expect(value(json, 'sluice_checkpoint_size_bytes', P0, 'sluice_checkpoint_size_bytes_count')).toBe(2);
    expect(value(json, 'sluice_sink_errors_total', { ...P0, sink: 'out' })).toBe(3);
    expect(value(json, 'sluice_sink_retries_total', { ...P0, sink: 'out' })).toBe(2);
  });

  it('adds up the time the actor was backpressured, an ongoing episode included', () => {
    const c = clock();
    const w = new WorkerMetrics('j', 0, c.now);
    const a = w.openActor('p0', 0, ['events'], ['out']);
    let pressed = false;
    a.watch(() => pressed);
    pressed = true;
    a.checkpointed(1, 1, 10); // the 4th undelivered epoch: backpressured from here
    c.advance(1_500);
    pressed = false;
    a.epochDelivered(1);
    c.advance(10_000);
    pressed = true;
    a.checkpointed(2, 1, 10);
    c.advance(250);
    let json = w.collect([stats('p0')]);
    expect(value(json, 'sluice_backpressure_seconds_total', P0)).toBeCloseTo(1.75);
    c.advance(250);
    json = w.collect([stats('p0')]);
    expect(value(json, 'sluice_backpressure_seconds_total', P0)).toBeCloseTo(2.0);
  });

  it('caps distinct dead-letter reasons and operator events, so record data cannot explode the series count', () => {
    const w = new WorkerMetrics('j', 0);
    w.openActor('p0', 0, ['events'], ['out']);
    const deadLetters: Record<string, number> = {};
    const operatorCounts: Record<string, number> = { 'dedupe:dropped_duplicates': 2 };
    for (let i = 0; i < MAX_DYNAMIC_LABELS + 10; i++) {
      deadLetters[`reason ${i}`] = 1;
      operatorCounts[`op:event-${i}`] = 1;
    }
    const json = w.collect([stats('p0', { deadLetters, operatorCounts })]);
    const dl = json.find((f) => f.name === 'sluice_dead_letters_total')!.values;
    expect(dl).toHaveLength(MAX_DYNAMIC_LABELS + 1);
    expect(dl.find((v) => v.labels.reason === OVERFLOW_LABEL)!.value).toBe(10);
    expect(dl.reduce((s, v) => s + v.value, 0)).toBe(MAX_DYNAMIC_LABELS + 10);
    const ops = json.find((f) => f.name === 'sluice_operator_events_total')!.values;
    expect(ops.find((v) => v.labels.operator === 'dedupe')).toMatchObject({ labels: { event: 'dropped_duplicates' }, value: 2 });
    expect(ops.find((v) => v.labels.operator === OVERFLOW_LABEL)!.value).toBe(11);
  });
});

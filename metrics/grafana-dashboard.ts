/**
 * The Grafana dashboard, as code: `buildDashboard()` returns the JSON model
 * that metrics/grafana-dashboard.json holds. Regenerate the file after a
 * change with
 *
 *   node --import tsx metrics/grafana-dashboard.ts
 *
 * (test/metrics/dashboard.test.ts fails while the file and this code differ,
 * and the Prometheus integration test runs every query below).
 *
 * Every query filters by the template variables $job, $worker and $partition
 * (multi-value, "All" = .*); process-wide series have no worker or partition
 * label and filter by $job only.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const SEL = 'job=~"$job", worker=~"$worker", partition=~"$partition"';
const JOB = 'job=~"$job"';
const RATE = '$__rate_interval';

interface Target {
  expr: string;
  legend: string;
}

interface PanelSpec {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
  kind?: 'timeseries' | 'stat';
}

const rate = (metric: string, by: string, sel = SEL): string => `sum by (${by}) (rate(${metric}{${sel}}[${RATE}]))`;
const quantiles = (metric: string): Target[] =>
  [0.5, 0.95, 0.99].map((q) => ({
    expr: `histogram_quantile(${q}, sum by (le) (rate(${metric}_bucket{${SEL}}[${RATE}])))`,
    legend: `p${q * 100}`,
  }));

const ROWS: Array<{ title: string; panels: PanelSpec[] }> = [
  {
    title: 'Throughput',
    panels: [
      { title: 'Records in', description: 'Records per second entering the pipeline, per source partition.', unit: 'rps', targets: [{ expr: rate('sluice_records_in_total', 'source, partition'), legend: '{{source}} p{{partition}}' }] },
      { title: 'Records out', description: 'Records per second emitted to each sink.', unit: 'rps', targets: [{ expr: rate('sluice_records_out_total', 'sink'), legend: '{{sink}}' }] },
      {
        title: 'Operator events',
        description: 'What operators count with ctx.count: join matches, unmatched rows, dropped duplicates, late window events.',
        unit: 'ops',
        targets: [{ expr: rate('sluice_operator_events_total', 'operator, event'), legend: '{{operator}} {{event}}' }],
      },
    ],
  },
  {
    title: 'Lag and latency',
    panels: [
      { title: 'Consumer lag', description: 'Records in each Kafka partition beyond the job position.', unit: 'short', targets: [{ expr: `sum by (topic, partition) (sluice_consumer_lag_records{${SEL}})`, legend: '{{topic}} p{{partition}}' }] },
      { title: 'Processing-time latency', description: 'Emission to the sink until the sink acknowledged: checkpoint plus delivery.', unit: 's', targets: quantiles('sluice_processing_latency_seconds') },
      { title: 'Event-time latency', description: "Record's event timestamp until the sink acknowledged it.", unit: 's', targets: quantiles('sluice_event_time_latency_seconds') },
      {
        title: 'Watermark lag',
        description: 'Now minus the event-time watermark, per partition: how far behind the clock event time is. Windows close only when the watermark passes their end.',
        unit: 's',
        targets: [{ expr: `time() - max by (partition) (sluice_watermark_timestamp_seconds{${SEL}})`, legend: 'p{{partition}}' }],
      },
    ],
  },
  {
    title: 'Checkpoints',
    panels: [
      {
        title: 'Checkpoint duration (p95)',
        description: 'Operators prepare plus the durable LMDB transaction.',
        unit: 's',
        targets: [{ expr: `histogram_quantile(0.95, sum by (le, partition) (rate(sluice_checkpoint_duration_seconds_bucket{${SEL}}[${RATE}])))`, legend: 'p{{partition}}' }],
      },
      { title: 'Checkpoint age', description: 'Seconds since the last checkpoint of each partition (idle partitions count as checkpointed).', unit: 's', targets: [{ expr: `time() - max by (partition) (sluice_last_checkpoint_timestamp_seconds{${SEL}})`, legend: 'p{{partition}}' }] },
      {
        title: 'Checkpoint size',
        description: 'Bytes written per checkpoint, on average, and checkpoints per second.',
        unit: 'bytes',
        targets: [
          { expr: `${rate('sluice_checkpoint_size_bytes_sum', 'partition')} / ${rate('sluice_checkpoint_size_bytes_count', 'partition')}`, legend: 'p{{partition}} bytes' },
          { expr: rate('sluice_checkpoints_total', 'partition'), legend: 'p{{partition}} checkpoints/s' },
        ],
      },
    ],
  },
  {
    title: 'Restores',
    panels: [
      {
        title: 'Restore progress',
        description: "Share of the changelog records read by each partition's latest restore of its state (1 when done); absent for partitions that did not restore.",
        unit: 'percentunit',
        targets: [{ expr: `max by (partition) (sluice_restore_records{${SEL}}) / clamp_min(max by (partition) (sluice_restore_records_expected{${SEL}}), 1)`, legend: 'p{{partition}}' }],
      },
      {
        title: 'Restore duration',
        description: "How long each partition's latest restore took, or has taken so far.",
        unit: 's',
        targets: [{ expr: `max by (partition) (sluice_restore_duration_seconds{${SEL}})`, legend: 'p{{partition}}' }],
      },
      { title: 'Restores', description: 'Restores from the changelog completed in the selected time range.', unit: 'short', kind: 'stat', targets: [{ expr: `sum(increase(sluice_restores_total{${SEL}}[$__range]))`, legend: 'restores' }] },
    ],
  },
  {
    title: 'State',
    panels: [
      { title: 'State keys', description: 'Keyed state entries per partition, as of the last checkpoint.', unit: 'short', targets: [{ expr: `sum by (partition) (sluice_state_keys{${SEL}})`, legend: 'p{{partition}}' }] },
      { title: 'State size', description: 'Bytes of keyed state per partition, as of the last checkpoint.', unit: 'bytes', targets: [{ expr: `sum by (partition) (sluice_state_bytes{${SEL}})`, legend: 'p{{partition}}' }] },
      { title: 'State size by operator', description: 'Bytes of keyed state per operator, as of the last checkpoint.', unit: 'bytes', targets: [{ expr: `sum by (operator) (sluice_operator_state_bytes{${SEL}})`, legend: '{{operator}}' }] },
    ],
  },
  {
    title: 'Backpressure',
    panels: [
      {
        title: 'Time backpressured',
        description: 'Share of time each partition held its input back because its sinks were behind; Kafka: share of time its partitions were paused.',
        unit: 'percentunit',
        targets: [
          { expr: rate('sluice_backpressure_seconds_total', 'partition'), legend: 'p{{partition}} sinks behind' },
          { expr: rate('sluice_source_paused_seconds_total', 'partition'), legend: 'p{{partition}} Kafka paused' },
        ],
      },
      {
        title: 'Mailbox and outbox',
        description: 'Records waiting for their worker thread (Kafka), and checkpointed epochs not yet delivered.',
        unit: 'short',
        targets: [
          { expr: `sum by (partition) (sluice_mailbox_records{${SEL}})`, legend: 'p{{partition}} mailbox records' },
          { expr: `sum by (partition) (sluice_outbox_undelivered_epochs{${SEL}})`, legend: 'p{{partition}} undelivered epochs' },
        ],
      },
    ],
  },
  {
    title: 'Errors',
    panels: [
      { title: 'Dead letters', description: 'Records per second sent to the dead-letter destination, by reason.', unit: 'rps', targets: [{ expr: rate('sluice_dead_letters_total', 'reason'), legend: '{{reason}}' }] },
      {
        title: 'Sink errors and retries',
        description: 'Failed and retried delivery attempts per second, by sink.',
        unit: 'ops',
        targets: [
          { expr: rate('sluice_sink_errors_total', 'sink'), legend: '{{sink}} errors' },
          { expr: rate('sluice_sink_retries_total', 'sink'), legend: '{{sink}} retries' },
        ],
      },
      { title: 'Rebalances', description: 'Consumer group rebalances in the selected time range.', unit: 'short', kind: 'stat', targets: [{ expr: `sum(increase(sluice_rebalances_total{${JOB}}[$__range]))`, legend: 'rebalances' }] },
    ],
  },
  {
    title: 'Processes and threads',
    panels: [
      { title: 'Worker thread utilization', description: 'Share of time each worker thread was busy.', unit: 'percentunit', targets: [{ expr: `sum by (instance, worker) (rate(sluice_worker_busy_seconds_total{job=~"$job", worker=~"$worker"}[${RATE}]))`, legend: '{{instance}} w{{worker}}' }] },
      { title: 'Process CPU', description: 'CPU seconds per second of each process (all its threads).', unit: 'short', targets: [{ expr: `sum by (instance) (rate(process_cpu_seconds_total{${JOB}}[${RATE}]))`, legend: '{{instance}}' }] },
      { title: 'Process memory', description: 'Resident memory of each process.', unit: 'bytes', targets: [{ expr: `sum by (instance) (process_resident_memory_bytes{${JOB}})`, legend: '{{instance}}' }] },
      { title: 'Job state', description: 'The life-cycle state of each process running the job.', unit: 'short', kind: 'stat', targets: [{ expr: `max by (instance, state) (sluice_job_state{${JOB}}) == 1`, legend: '{{instance}} {{state}}' }] },
    ],
  },
];

const DS = { type: 'prometheus', uid: '${datasource}' };

function variable(name: string, label: string, query: string): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource: DS,
    definition: query,
    query: { query, refId: `${name}-var` },
    refresh: 2,
    includeAll: true,
    multi: true,
    allValue: '.*',
    current: { selected: true, text: ['All'], value: ['$__all'] },
    sort: 3,
  };
}

export function buildDashboard(): Record<string, unknown> {
  const panels: unknown[] = [];
  let id = 1;
  let y = 0;
  for (const row of ROWS) {
    panels.push({ id: id++, type: 'row', title: row.title, collapsed: false, gridPos: { h: 1, w: 24, x: 0, y }, panels: [] });
    y += 1;
    const w = Math.floor(24 / row.panels.length);
    row.panels.forEach((p, i) => {
      panels.push({
        id: id++,
        type: p.kind ?? 'timeseries',
        title: p.title,
        description: p.description,
        datasource: DS,
        gridPos: { h: 8, w, x: i * w, y },
        fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
        options: p.kind === 'stat' ? { reduceOptions: { calcs: ['lastNotNull'] }, textMode: 'value_and_name' } : { legend: { displayMode: 'list', placement: 'bottom' }, tooltip: { mode: 'multi' } },
        targets: p.targets.map((t, k) => ({ datasource: DS, expr: t.expr, legendFormat: t.legend, refId: String.fromCharCode(65 + k) })),
      });
    });
    y += 8;
  }
  return {
    title: 'sluice',
    uid: 'sluice-overview',
    description: 'sluice stream-processing jobs: throughput, lag, latency, watermark lag, checkpoints, restores, state, backpressure, errors. See metrics/README.md.',
    tags: ['sluice'],
    editable: true,
    schemaVersion: 39,
    version: 1,
    refresh: '10s',
    time: { from: 'now-1h', to: 'now' },
    timezone: 'browser',
    templating: {
      list: [
        { name: 'datasource', label: 'Prometheus', type: 'datasource', query: 'prometheus', current: {} },
        variable('job', 'job', 'label_values(sluice_records_in_total, job)'),
        variable('worker', 'worker', 'label_values(sluice_records_in_total{job=~"$job"}, worker)'),
        variable('partition', 'partition', 'label_values(sluice_records_in_total{job=~"$job", worker=~"$worker"}, partition)'),
      ],
    },
    annotations: { list: [] },
    panels,
  };
}

export const DASHBOARD_FILE = fileURLToPath(new URL('./grafana-dashboard.json', import.meta.url));

export function renderDashboard(): string {
  return JSON.stringify(buildDashboard(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(DASHBOARD_FILE, renderDashboard());
  console.log(`wrote ${DASHBOARD_FILE}`);
}

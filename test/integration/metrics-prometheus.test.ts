/**
 * The dashboard and the alert rules against a real Prometheus scraping a
 * real job: a Kafka job (so lag, mailbox, pauses and rebalances exist) fed a
 * steady stream with some bad records (so dead letters exist), writing to a
 * file sink through the outbox (so latencies and checkpoint sizes are real).
 *
 * Every PromQL expression in metrics/grafana-dashboard.json and
 * metrics/alerts.yml goes through Prometheus's HTTP API and must return data.
 * A panel whose query names a wrong metric or label comes back empty and
 * fails the test.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Producer } from 'kafkajs';
import { applySettings, loadJob } from '../../engine/runtime/job-loader.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { METRICS } from '../../metrics/catalog.ts';
import { createTopic, kafkaBrokers, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { tempDir } from '../helpers/temp.ts';
import { ALERTS, SCRAPE_CONFIG, alertRules, comparisonsAsBool, dashboardQueries, substitute, templateQueries, unlessOperands } from '../metrics/promql.ts';
import { startPrometheus, type PrometheusServer, type VectorSample } from '../../engine/dev/servers/prometheus.ts';

const JOB = new URL('../metrics/fixtures/metrics-job.ts', import.meta.url).href;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** "All" selected in every template variable, and one concrete selection that exists in the test. */
const ALL = { job: '.*', worker: '.*', partition: '.*', datasource: 'prometheus' };
const ONE = { job: 'metrics-fixture', worker: '0', partition: '0', datasource: 'prometheus' };

describe('metrics in a real Prometheus', () => {
  let prom: PrometheusServer;
  let runner: JobRunner;
  let producer: Producer;
  let producing = true;
  let feeding: Promise<void>;

  const vector = async (expr: string): Promise<VectorSample[]> => {
    const r = await prom.query(expr);
    expect(r.resultType, expr).toBe('vector');
    return r.result as VectorSample[];
  };

  beforeAll(async () => {
    const topic = await createTopic('metrics-events', 4);
    producer = kafkaClient().producer();
    await producer.connect();
    // About 400 records/s, 1 in 40 invalid (no key) and 1 in 80 not JSON at all.
    // Half the keys while the first process runs, all of them after: the restored process sees new keys too.
    let seq = 0;
    let keys = 50;
    feeding = (async () => {
      while (producing) {
        const messages = Array.from({ length: 40 }, () => {
          const n = seq++;
          if (n % 80 === 7) return { key: `k${n % keys}`, value: 'not json' };
          return { key: `k${n % keys}`, value: JSON.stringify(n % 40 === 3 ? { seq: n } : { key: `k${n % keys}`, seq: n }) };
        });
        await producer.send({ topic, messages });
        await sleep(100);
      }
    })();

    const job = await loadJob(JOB);
    const groupId = uniqueName('metrics');
    const options = {
      jobModule: JOB,
      job,
      settings: applySettings(job.settings, { source: 'kafka', topic }),
      brokers: kafkaBrokers(),
      groupId,
      workers: 2,
      outputDir: tempDir(),
      checkpointIntervalMs: 500,
      metricsPort: 0,
    };
    // A first process builds state and checkpoints it to the changelogs; the one Prometheus
    // scrapes starts on an empty state directory, so it restores every partition from them.
    const first = new JobRunner({ ...options, stateDir: tempDir() });
    await first.start();
    const built = Date.now() + 60_000;
    while ([...first.stats.values()].filter((a) => a.checkpoints > 0 && a.stateKeys > 0).length < 4) {
      if (Date.now() > built) throw new Error('the first process did not checkpoint state in every partition within 60 s');
      await sleep(200);
    }
    await first.stop();
    keys = 100;
    runner = new JobRunner({ ...options, stateDir: tempDir() });
    await runner.start();
    const { port } = runner.metricsAddress!;
    prom = await startPrometheus({ targets: [`127.0.0.1:${port}`], ruleFiles: [fileURLToPath(ALERTS)], intervalSeconds: 1 });
    // Enough scrapes for rate() over 30 s windows, and deliveries in each.
    const deadline = Date.now() + 60_000;
    for (;;) {
      const scrapes = await vector('count_over_time(sluice_job_state{state="RUNNING"}[1m])');
      const delivered = await vector('sum(sluice_processing_latency_seconds_count)');
      if (Number(scrapes[0]?.value[1] ?? 0) >= 8 && Number(delivered[0]?.value[1] ?? 0) > 0) break;
      if (Date.now() > deadline) throw new Error(`Prometheus has no data from the job after 60 s (scrapes: ${JSON.stringify(scrapes)})`);
      await sleep(500);
    }
  });

  afterAll(async () => {
    producing = false;
    await feeding?.catch(() => {});
    await runner?.stop().catch(() => {});
    await prom?.stop();
  });

  it('scrapes the job: the target is up and every catalog metric has series (but those of a failing job)', async () => {
    const targets = await prom.api<{ activeTargets: Array<{ health: string; lastError: string }> }>('targets');
    expect(targets.activeTargets).toHaveLength(1);
    expect(targets.activeTargets[0]).toMatchObject({ health: 'up', lastError: '' });
    const names = new Set((await vector('count by (__name__) ({__name__=~"sluice_.+", job="metrics-fixture"})')).map((s) => s.metric.__name__));
    // A failure counter has series only in a job that failed (test/engine/runtime/job-failures.test.ts reads it there).
    const healthy = METRICS.filter((m) => !('onlyOnFailure' in m && m.onlyOnFailure));
    const missing = healthy.map((m) => (m.type === 'histogram' ? `${m.name}_bucket` : m.name)).filter((n) => !names.has(n));
    expect(missing).toEqual([]);
    expect(METRICS.filter((m) => 'onlyOnFailure' in m && names.has(m.name)).map((m) => m.name)).toEqual([]);
  });

  it('runs every dashboard query, with all and with one job/worker/partition selected, and gets numbers back', async () => {
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThanOrEqual(20);
    const failures: string[] = [];
    for (const { panel, expr } of queries) {
      for (const vars of [ALL, ONE]) {
        const q = substitute(expr, vars);
        const result = await vector(q).catch((e: Error) => e);
        if (result instanceof Error) failures.push(`${panel}: ${q}: ${result.message}`);
        else if (result.length === 0) failures.push(`${panel}: ${q}: empty`);
        else if (!result.some((s) => Number.isFinite(Number(s.value[1])))) failures.push(`${panel}: ${q}: only ${result.map((s) => s.value[1]).join(', ')}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it('resolves every template variable to label values that exist', async () => {
    const got: Record<string, string[]> = {};
    for (const t of templateQueries()) {
      const series = await prom.api<Array<Record<string, string>>>('series', { 'match[]': substitute(t.match, ALL) });
      got[t.variable] = [...new Set(series.map((s) => s[t.label]).filter((v) => v !== undefined))].sort();
    }
    expect(got).toEqual({ job: ['metrics-fixture'], worker: ['0', '1'], partition: ['0', '1', '2', '3'] });
  });

  it('evaluates every alert rule: Prometheus loads them healthy, and each expression has series behind it', async () => {
    const rules = alertRules();
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(['SluiceConsumerLagRising', 'SluiceCheckpointsStalled', 'SluiceDeadLettersRising', 'SluiceJobDown']));
    const failures: string[] = [];
    for (const r of rules) {
      // As written: must evaluate (it is empty while the alert does not fire).
      await vector(r.expr).catch((e: Error) => failures.push(`${r.alert}: ${e.message}`));
      // `a unless b` (an absence alert) is empty while the job runs: each side must have series instead.
      for (const part of unlessOperands(r.expr)) {
        const q = comparisonsAsBool(part);
        const result = await vector(q).catch((e: Error) => e);
        if (result instanceof Error) failures.push(`${r.alert}: ${q}: ${result.message}`);
        else if (result.length === 0) failures.push(`${r.alert}: ${q}: empty`);
      }
    }
    expect(failures).toEqual([]);

    // Loaded from the file by Prometheus itself, and evaluated without error.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const groups = (await prom.api<{ groups: Array<{ rules: Array<{ name: string; health: string; lastError?: string }> }> }>('rules')).groups;
      const loaded = groups.flatMap((g) => g.rules);
      expect(loaded.map((r) => r.name).sort()).toEqual(rules.map((r) => r.alert).sort());
      const bad = loaded.filter((r) => r.health !== 'ok');
      if (bad.length === 0) break;
      if (Date.now() > deadline) throw new Error(`rules not healthy: ${JSON.stringify(bad)}`);
      await sleep(500);
    }
  });

  it('raises the dead-letter alert while bad records keep coming', async () => {
    const deadline = Date.now() + 30_000;
    let alerts: Array<{ labels: Record<string, string>; state: string }> = [];
    while (Date.now() < deadline) {
      alerts = (await prom.api<{ alerts: typeof alerts }>('alerts')).alerts;
      if (alerts.some((a) => a.labels.alertname === 'SluiceDeadLettersRising')) break;
      await sleep(500);
    }
    const dl = alerts.filter((a) => a.labels.alertname === 'SluiceDeadLettersRising');
    expect(dl.map((a) => a.labels.reason).sort()).toEqual(['decode_error', 'validation_failed']);
    for (const a of dl) expect(['pending', 'firing']).toContain(a.state);
    expect(dl[0].labels.job).toBe('metrics-fixture');
  });

  it('ships a scrape config and rules that promtool accepts', async () => {
    for (const args of [
      ['check', 'rules', fileURLToPath(ALERTS)],
      ['check', 'config', fileURLToPath(SCRAPE_CONFIG)],
    ]) {
      const r = await prom.promtool(args);
      expect(r.code, `promtool ${args.join(' ')}:\n${r.stdout}${r.stderr}`).toBe(0);
    }
  });

  it('reports the job ready at /healthz', async () => {
    const res = await fetch(`http://127.0.0.1:${runner.metricsAddress!.port}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ job: 'metrics-fixture', state: 'RUNNING', ready: true, partitions: 4 });
  });

  it('counts event-time latency only for records with an event time: no internal changelog series, nothing near 600 s', async () => {
    expect(await vector('sluice_event_time_latency_seconds_count{sink="__changelog"}')).toEqual([]);
    expect((await vector('sum by (sink) (sluice_event_time_latency_seconds_count)')).map((s) => s.metric.sink)).toEqual(['out']);
    // Kafka timestamps of records produced a moment ago: none is more than 5 minutes old when delivered.
    const over = await vector('sum(sluice_event_time_latency_seconds_count) - sum(sluice_event_time_latency_seconds_bucket{le="300"})');
    expect(Number(over[0].value[1])).toBe(0);
  });

  it('shows the restores: every partition restored, its progress complete and its duration', async () => {
    const restored = await vector('sum by (partition) (sluice_restores_total{job="metrics-fixture"})');
    expect(restored.map((s) => [s.metric.partition, Number(s.value[1])]).sort()).toEqual([['0', 1], ['1', 1], ['2', 1], ['3', 1]]);
    const progress = await vector(substitute(dashboardQueries().find((q) => q.panel === 'Restore progress')!.expr, ALL));
    expect(progress.map((s) => Number(s.value[1]))).toEqual([1, 1, 1, 1]);
    const durations = await vector('sluice_restore_duration_seconds{job="metrics-fixture"}');
    expect(durations).toHaveLength(4);
    for (const d of durations) expect(Number(d.value[1])).toBeGreaterThan(0);
  });

  it('shows the watermark lag of every partition: seconds behind now, small while records flow', async () => {
    const lag = await vector(substitute(dashboardQueries().find((q) => q.panel === 'Watermark lag')!.expr, ALL));
    expect(lag).toHaveLength(4);
    for (const s of lag) expect(Number(s.value[1])).toBeGreaterThanOrEqual(0);
    expect(Math.min(...lag.map((s) => Number(s.value[1])))).toBeLessThan(300);
  });

  // Last: it stops the job.
  it('raises SluiceJobDown once the process is gone and its series vanish', async () => {
    const down = async () => (await prom.api<{ alerts: Array<{ labels: Record<string, string>; state: string }> }>('alerts')).alerts.filter((a) => a.labels.alertname === 'SluiceJobDown');
    expect(await down()).toEqual([]);
    producing = false;
    await feeding;
    await runner.stop();
    const deadline = Date.now() + 60_000;
    let alerts = await down();
    while (alerts.length === 0) {
      if (Date.now() > deadline) throw new Error('SluiceJobDown did not fire within 60 s of the process stopping');
      await sleep(500);
      alerts = await down();
    }
    expect(alerts[0].labels.job).toBe('metrics-fixture');
    expect(['pending', 'firing']).toContain(alerts[0].state);
  });
});

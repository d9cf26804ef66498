/**
 * The metric catalog, the docs, the dashboard and the alert rules agree: the
 * README documents exactly the metrics that exist, and the dashboard and the
 * rules name no metric that does not. (Whether their queries return data is
 * checked against a real Prometheus in test/integration/metrics-prometheus.test.ts.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { METRICS } from '../../metrics/catalog.ts';
import { buildDashboard, DASHBOARD_FILE, renderDashboard } from '../../metrics/grafana-dashboard.ts';
import { ALERTS, alertRules, comparisonsAsBool, dashboardQueries, substitute, templateQueries, unlessOperands } from './promql.ts';

const README = readFileSync(new URL('../../metrics/README.md', import.meta.url), 'utf8');
const PROCESS_METRICS = new Set(['process_cpu_seconds_total', 'process_resident_memory_bytes']);

/** Metric names a PromQL expression uses (identifiers followed by a selector or a range). */
function metricNames(expr: string): string[] {
  return [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\s*(?=\{|\[)/g)].map((m) => m[1]);
}

const exported = new Set(METRICS.flatMap((m) => (m.type === 'histogram' ? [`${m.name}_bucket`, `${m.name}_sum`, `${m.name}_count`] : [m.name])));

describe('metrics docs, dashboard and rules', () => {
  it('README documents exactly the catalog: name, type, labels and meaning', () => {
    const rows = README.split('\n')
      .filter((l) => /^\| `sluice_/.test(l))
      .map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
    const documented = rows.map(([name, type, labels, help]) => ({ name: name.replaceAll('`', ''), type, labels: labels.replaceAll('`', '').split(', '), help }));
    expect(documented).toEqual(METRICS.map((m) => ({ name: m.name, type: m.type, labels: [...m.labels], help: m.help })));
  });

  it('names metrics by Prometheus conventions', () => {
    for (const m of METRICS) {
      expect(m.name).toMatch(/^sluice_[a-z0-9_]+$/);
      if (m.type === 'counter') expect(m.name).toMatch(/_total$/);
      else expect(m.name).not.toMatch(/_total$/);
      if (m.type === 'histogram') expect(m.name).toMatch(/_(seconds|bytes)$/);
    }
  });

  it('the dashboard JSON is what grafana-dashboard.ts generates', () => {
    expect(readFileSync(DASHBOARD_FILE, 'utf8')).toBe(renderDashboard());
  });

  it('the dashboard has the required panels, each with a query on known metrics, templated by job, worker and partition', () => {
    const d = buildDashboard() as { panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }> };
    const rows = d.panels.filter((p) => p.type === 'row').map((p) => p.title);
    expect(rows).toEqual(['Throughput', 'Lag and latency', 'Checkpoints', 'Restores', 'State', 'Backpressure', 'Errors', 'Processes and threads']);
    const titles = d.panels.map((p) => p.title);
    for (const t of ['Records in', 'Consumer lag', 'Processing-time latency', 'Event-time latency', 'Watermark lag', 'Restore progress', 'Restore duration', 'Checkpoint duration (p95)', 'Checkpoint age', 'State size', 'Time backpressured', 'Dead letters', 'Sink errors and retries']) {
      expect(titles).toContain(t);
    }
    for (const p of d.panels.filter((x) => x.type !== 'row')) expect(p.targets?.length, p.title).toBeGreaterThan(0);
    expect(templateQueries().map((t) => t.variable)).toEqual(['job', 'worker', 'partition']);
    for (const { panel, expr } of dashboardQueries()) {
      for (const name of metricNames(expr)) expect(exported.has(name) || PROCESS_METRICS.has(name), `${panel}: unknown metric ${name}`).toBe(true);
      expect(expr, panel).toContain('job=~"$job"');
      // Per-partition series filter by all three variables.
      if (/sluice_(records|dead|operator|checkpoint|last|state|outbox|backpressure|processing|event|sink|consumer|mailbox|source|watermark|restore)/.test(expr)) {
        expect(expr, panel).toContain('worker=~"$worker", partition=~"$partition"');
      }
      expect(() => substitute(expr, { job: '.*', worker: '.*', partition: '.*' })).not.toThrow();
    }
  });

  it('every alert rule is one line of PromQL on known metrics, with a duration, a severity and a summary', () => {
    const text = readFileSync(ALERTS, 'utf8');
    const rules = alertRules(text);
    expect(rules.length).toBe((text.match(/^\s*- alert:/gm) ?? []).length);
    expect(rules.length).toBe((text.match(/^\s*expr:/gm) ?? []).length);
    expect(rules.map((r) => r.alert)).toEqual(['SluiceConsumerLagRising', 'SluiceJobDown', 'SluiceCheckpointsStalled', 'SluiceDeadLettersRising', 'SluiceSinkErrors', 'SluiceWorkerUnresponsive']);
    for (const r of rules) for (const name of metricNames(r.expr)) expect(exported.has(name), `${r.alert}: unknown metric ${name}`).toBe(true);
    const blocks = text.split(/^\s*- alert:/m).slice(1);
    for (const b of blocks) {
      expect(b).toMatch(/^\s*for: \d+m$/m);
      expect(b).toMatch(/^\s*severity: (warning|critical)$/m);
      expect(b).toMatch(/^\s*summary: /m);
    }
  });
});

describe('comparisonsAsBool', () => {
  it('turns filtering comparisons into bool comparisons', () => {
    expect(comparisonsAsBool('sum(x) > 0')).toBe('sum(x) > bool 0');
    expect(comparisonsAsBool('a >= 1 and b<2')).toBe('a >= bool 1 and b< bool 2');
    expect(comparisonsAsBool('time() - max(y) > 120')).toBe('time() - max(y) > bool 120');
    expect(comparisonsAsBool('a == bool 1')).toBe('a == bool 1');
  });

  it('splits an absence alert at its top-level unless', () => {
    expect(unlessOperands('count by (job) (max_over_time(x[1h])) unless count by (job) (x)')).toEqual(['count by (job) (max_over_time(x[1h]))', 'count by (job) (x)']);
    expect(unlessOperands('sum(rate(x{a="b unless c"}[5m])) > 0')).toEqual(['sum(rate(x{a="b unless c"}[5m])) > 0']);
  });

  it('leaves label matchers and strings alone', () => {
    expect(comparisonsAsBool('x{a!="b", c=~"d>e"} != 3')).toBe('x{a!="b", c=~"d>e"} != bool 3');
    expect(comparisonsAsBool('label_replace(x, "a", "<", "b", ".*") < 1')).toBe('label_replace(x, "a", "<", "b", ".*") < bool 1');
  });
});

/**
 * The PromQL of the dashboard and the alert rules, pulled out of their files
 * for the tests that run it against Prometheus.
 */
import { readFileSync } from 'node:fs';

export const DASHBOARD = new URL('../../metrics/grafana-dashboard.json', import.meta.url);
export const ALERTS = new URL('../../metrics/alerts.yml', import.meta.url);
export const SCRAPE_CONFIG = new URL('../../metrics/prometheus.yml', import.meta.url);

export interface PanelQuery {
  panel: string;
  expr: string;
}

/** Every `expr` of every panel target (rows included), in file order. */
export function dashboardQueries(dashboard: unknown = JSON.parse(readFileSync(DASHBOARD, 'utf8'))): PanelQuery[] {
  const out: PanelQuery[] = [];
  const walk = (node: unknown, panel: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, panel));
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    const title = typeof o.title === 'string' && Array.isArray(o.targets) ? o.title : panel;
    if (typeof o.expr === 'string') out.push({ panel, expr: o.expr });
    for (const [k, v] of Object.entries(o)) if (k !== 'templating') walk(v, title);
  };
  walk(dashboard, '(dashboard)');
  return out;
}

export interface LabelValuesQuery {
  variable: string;
  /** The series selector, e.g. `sluice_records_in_total{job=~"$job"}`. */
  match: string;
  label: string;
}

/** The template variables' `label_values(selector, label)` queries; anything else is an error. */
export function templateQueries(dashboard: unknown = JSON.parse(readFileSync(DASHBOARD, 'utf8'))): LabelValuesQuery[] {
  const list = (dashboard as { templating: { list: Array<{ name: string; type: string; definition?: string }> } }).templating.list;
  return list
    .filter((v) => v.type === 'query')
    .map((v) => {
      const m = /^label_values\((.+),\s*([a-zA-Z_][a-zA-Z0-9_]*)\)$/.exec(v.definition ?? '');
      if (!m) throw new Error(`template variable ${v.name}: unsupported query ${v.definition}`);
      return { variable: v.name, match: m[1], label: m[2] };
    });
}

/** Grafana's variables replaced by values: template variables from `vars`, intervals by fixed windows. */
export function substitute(expr: string, vars: Record<string, string>, rateInterval = '30s', range = '5m'): string {
  let out = expr.replaceAll('$__rate_interval', rateInterval).replaceAll('$__range', range).replaceAll('$__interval', rateInterval);
  out = out.replace(/\$\{?([a-zA-Z_]\w*)\}?/g, (whole, name: string) => {
    if (!(name in vars)) throw new Error(`no value for $${name} in ${expr}`);
    return vars[name];
  });
  return out;
}

export interface AlertRule {
  alert: string;
  expr: string;
}

/** The rules of alerts.yml. Each rule's expr sits on one line (test/metrics/docs.test.ts checks that). */
export function alertRules(text = readFileSync(ALERTS, 'utf8')): AlertRule[] {
  const rules: AlertRule[] = [];
  let current: string | undefined;
  for (const line of text.split('\n')) {
    const a = /^\s*- alert:\s*(\S+)\s*$/.exec(line);
    if (a) current = a[1];
    const e = /^\s*expr:\s*(.+)$/.exec(line);
    if (e) {
      if (!current) throw new Error(`expr outside an alert rule: ${line}`);
      rules.push({ alert: current, expr: e[1].trim() });
      current = undefined;
    }
  }
  return rules;
}

/**
 * An alert expression with every comparison turned into its `bool` form
 * (`x > 0` becomes `x > bool 0`): instead of keeping only the series that
 * breach the threshold, it keeps every series with 0 or 1. A non-empty
 * result then shows that the expression's series exist and match up, whether
 * or not the alert would fire right now. Label matchers (inside braces) and
 * strings are left alone.
 */
export function comparisonsAsBool(expr: string): string {
  let out = '';
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote) {
      out += c;
      if (c === '\\') out += expr[++i] ?? '';
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '{') depth++;
    else if (c === '}') depth--;
    else if (depth === 0) {
      const two = expr.slice(i, i + 2);
      const op = ['>=', '<=', '==', '!='].includes(two) ? two : c === '>' || c === '<' ? c : undefined;
      if (op) {
        out += op;
        i += op.length - 1;
        if (!/^\s*bool\b/.test(expr.slice(i + 1))) out += /^\s/.test(expr[i + 1] ?? '') ? ' bool' : ' bool ';
        continue;
      }
    }
    out += c;
  }
  return out;
}

/**
 * The operands of a top-level `unless` (`a unless b` gives [a, b]), or the
 * expression alone. An absence alert (`seen lately unless seen now`) is empty
 * while all is well; its operands are what must have series.
 */
export function unlessOperands(expr: string): string[] {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      continue;
    }
    if (c === '"' || c === "'" || c === '`') quote = c;
    else if (c === '(' || c === '{' || c === '[') depth++;
    else if (c === ')' || c === '}' || c === ']') depth--;
    else if (depth === 0 && /^\sunless\s/.test(expr.slice(i, i + 8))) return [expr.slice(0, i).trim(), ...unlessOperands(expr.slice(i + 7).trim())];
  }
  return [expr];
}

/**
 * Renders bench/README.md from bench/results/*.json: for every scenario its
 * latest result file, as tables, beside the anchors (bench/anchors.ts), then
 * the hand-written notes in bench/notes/*.md (profiles, analysis).
 *
 * Two result shapes are understood:
 *   - `figures` (bench-harness.ts): pivoted into one table per scenario, a row
 *     per label combination, a column per metric ("median (min–max)"), plus
 *     the anchor and the goal with whether the median meets it;
 *   - anything else with `results` (the standalone scripts, e.g. codec.ts):
 *     an array of flat objects becomes a table with a column per key; an
 *     object becomes key/value rows.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { anchorsMarkdown } from './anchors.ts';
import type { Figure } from './bench-harness.ts';
import { fmt } from './format.ts';

const dir = new URL('./', import.meta.url);
const resultsDir = new URL('./results/', dir);
const notesDir = new URL('./notes/', dir);

interface ResultFile {
  file: string;
  scenario: string;
  date?: string;
  command?: string;
  machine?: Record<string, unknown>;
  loadAvg?: { start: number[]; end: number[] };
  settings?: Record<string, unknown>;
  notes?: string | string[];
  figures?: Figure[];
  results?: unknown;
}

function table(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

function cell(f: Figure): string {
  if (f.median === null) return `n/a: ${f.missing ?? 'not measured'}`;
  return f.runs.length > 1 ? `${fmt(f.median)} (${fmt(f.min)}–${fmt(f.max)})` : fmt(f.median);
}

function goalCell(f: Figure): string {
  const g = f.goal!;
  const want = `${g.op === '>=' ? '≥' : '≤'} ${fmt(g.value)}`;
  if (f.median === null) return `${want}: not measured`;
  const met = g.op === '>=' ? f.median >= g.value : f.median <= g.value;
  if (met) return `${want}: met`;
  if (g.op === '<=' && f.median > 2 * g.value) return `${want}: **missed, ${fmt(+(f.median / g.value).toFixed(1))}× the goal**`;
  const by = g.op === '>=' ? (1 - f.median / g.value) * 100 : (f.median / g.value - 1) * 100;
  return `${want}: **missed by ${by.toFixed(0)} %**`;
}

/**
 * Tables of figures: a row per label combination, a column per metric. Rows
 * with different sets of metrics (throughput rows and latency rows of one
 * scenario) go to separate tables, so no table is mostly empty cells.
 */
export function pivot(figures: readonly Figure[]): string {
  const rowsOf = new Map<string, Figure[]>();
  for (const f of figures) {
    const id = JSON.stringify(f.labels);
    rowsOf.set(id, [...(rowsOf.get(id) ?? []), f]);
  }
  const groups = new Map<string, Figure[]>();
  for (const fs of rowsOf.values()) {
    const sig = fs.map((f) => f.metric).join('|');
    groups.set(sig, [...(groups.get(sig) ?? []), ...fs]);
  }
  return [...groups.values()].map(pivotOne).join('\n\n');
}

function pivotOne(figures: readonly Figure[]): string {
  const labelKeys: string[] = [];
  const metrics: string[] = [];
  const rows = new Map<string, Figure[]>();
  for (const f of figures) {
    for (const k of Object.keys(f.labels)) if (!labelKeys.includes(k)) labelKeys.push(k);
    const m = `${f.metric}${f.unit && f.unit !== f.metric ? ` (${f.unit})` : ''}`;
    if (!metrics.includes(m)) metrics.push(m);
    const id = JSON.stringify(f.labels);
    rows.set(id, [...(rows.get(id) ?? []), f]);
  }
  const hasAnchor = figures.some((f) => f.anchor);
  const hasGoal = figures.some((f) => f.goal);
  const header = [...labelKeys, ...metrics, ...(hasAnchor ? ['anchor'] : []), ...(hasGoal ? ['goal'] : [])];
  const out: string[][] = [];
  for (const fs of rows.values()) {
    const r = labelKeys.map((k) => fmt(fs[0].labels[k]));
    for (const m of metrics) {
      const f = fs.find((x) => `${x.metric}${x.unit && x.unit !== x.metric ? ` (${x.unit})` : ''}` === m);
      r.push(f ? cell(f) : '');
    }
    if (hasAnchor) r.push(fs.filter((f) => f.anchor).map((f) => `${fmt(f.anchor!.value)} (${f.anchor!.source})`).join('; '));
    if (hasGoal) r.push(fs.filter((f) => f.goal).map((f) => `${goalCell(f)} (${f.metric})`).join('; '));
    out.push(r);
  }
  return table(header, out);
}

function flatten(x: unknown, prefix = ''): Array<[string, unknown]> {
  if (x === null || typeof x !== 'object' || Array.isArray(x)) return [[prefix, x]];
  return Object.entries(x as Record<string, unknown>).flatMap(([k, v]) => flatten(v, prefix ? `${prefix}.${k}` : k));
}

/** Tables for result files that do not use `figures`. */
export function generic(results: unknown): string {
  if (Array.isArray(results) && results.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) {
    const rows = results.map((r) => Object.fromEntries(flatten(r)));
    const keys: string[] = [];
    for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
    return table(keys, rows.map((r) => keys.map((k) => fmt(r[k]))));
  }
  if (results !== null && typeof results === 'object' && !Array.isArray(results)) {
    const entries = Object.entries(results as Record<string, unknown>);
    // An object of arrays (several result sets): one table each.
    if (entries.every(([, v]) => Array.isArray(v))) return entries.map(([k, v]) => `**${k}**\n\n${generic(v)}`).join('\n\n');
    return table(['key', 'value'], flatten(results).map(([k, v]) => [k, fmt(v)]));
  }
  return '```json\n' + JSON.stringify(results, null, 2) + '\n```';
}

function latestPerScenario(): ResultFile[] {
  if (!existsSync(resultsDir)) return [];
  const byScenario = new Map<string, ResultFile>();
  for (const name of readdirSync(resultsDir).filter((n) => /^\d{4}-\d{2}-\d{2}-.+\.json$/.test(n)).sort()) {
    const body = JSON.parse(readFileSync(new URL(name, resultsDir), 'utf8')) as Omit<ResultFile, 'file' | 'scenario'> & { scenario?: string };
    const scenario = body.scenario ?? name.slice(11, -5);
    byScenario.set(scenario, { ...body, file: name, scenario }); // names sort by date: the last one wins
  }
  return [...byScenario.values()];
}

function section(r: ResultFile): string {
  const m = r.machine ?? {};
  const parts = [`## ${r.scenario}`, ''];
  parts.push(`\`bench/results/${r.file}\`${r.command ? `, from \`${r.command}\`` : ''}.`);
  parts.push('');
  parts.push(
    `Machine: ${fmt(m.cores)} cores (${fmt(m.cpuModel)}), ${fmt(m.totalMemMiB)} MiB, Node ${fmt(m.node)}` +
      (r.loadAvg ? `; load average ${r.loadAvg.start[0]} at the start, ${r.loadAvg.end[0]} at the end.` : m.loadAvg1m !== undefined ? `; load average ${fmt(m.loadAvg1m)}.` : '.'),
  );
  if (r.settings) parts.push('', `Settings: \`${JSON.stringify(r.settings)}\``);
  const notes = r.notes === undefined ? [] : Array.isArray(r.notes) ? r.notes : [r.notes];
  if (notes.length) parts.push('', ...notes.map((n) => `- ${n}`));
  parts.push('', r.figures ? pivot(r.figures) : generic(r.results), '');
  return parts.join('\n');
}

/** Writes bench/README.md and returns its path. */
export function renderReadme(): string {
  const files = latestPerScenario();
  const notes = existsSync(notesDir)
    ? readdirSync(notesDir)
        .filter((n) => n.endsWith('.md'))
        .sort()
        .map((n) => readFileSync(new URL(n, notesDir), 'utf8').trim())
    : [];
  const doc = [
    '# Benchmarks',
    '',
    '<!-- Generated by `npm run bench -- render` from bench/results/*.json, bench/anchors.ts and bench/notes/*.md. Edit those, not this file. -->',
    '',
    'Run them with `npm run bench` (every scenario) or `npm run bench -- <scenario>`; `npm run bench -- list` shows the options. ' +
      'Figures are medians over the runs, with min–max in brackets. The machine is a shared 2-core VM on which other work (test suites) ran at the same time: single figures are noisy, and the load average is recorded with each result.',
    '',
    anchorsMarkdown(),
    '',
    ...files.map(section),
    ...notes.flatMap((n) => [n, '']),
  ].join('\n');
  const path = fileURLToPath(new URL('README.md', dir));
  writeFileSync(path, doc.trimEnd() + '\n');
  return path;
}

/**
 * The scenario harness behind `npm run bench`: figures summarized over
 * several runs, and the result file each scenario writes.
 *
 * Result file: bench/results/<YYYY-MM-DD>-<scenario>.json
 *
 *   {
 *     "scenario": "nexmark",
 *     "date": "2026-11-22T01:02:03.456Z",          ISO time the file was written
 *     "command": "npm run bench -- nexmark --runs 3",
 *     "machine": { cores, cpuModel, node, platform, arch, totalMemMiB, loadAvg1m },
 *     "loadAvg": { "start": [1m, 5m, 15m], "end": [1m, 5m, 15m] },
 *     "settings": { ... },                          what the scenario ran with
 *     "notes": [ "..." ],                           caveats, in words
 *     "figures": [                                  one per measured quantity
 *       { "labels": { "query": "q0", "workers": 1 },  which row of the table
 *         "metric": "events/s", "unit": "events/s",   which column
 *         "median": 1, "min": 1, "max": 1, "runs": [1, 1, 1],
 *         "goal":   { "op": ">=", "value": 155000, "source": "Flink 1.13 per core" },   optional
 *         "anchor": { "value": 155000, "source": "Flink 1.13, per core" } }          optional
 *     ]
 *   }
 *
 * A figure measured once has runs of length 1 (min = median = max). A figure
 * that could not be measured has median null and a `missing` reason, so the
 * README says why instead of leaving a gap.
 */
import { loadavg } from 'node:os';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { machine } from './state-harness.ts';

export type Labels = Record<string, string | number>;

export interface Goal {
  op: '>=' | '<=';
  value: number;
  source: string;
}

export interface Anchor {
  value: number;
  source: string;
}

export interface Figure {
  labels: Labels;
  metric: string;
  unit: string;
  median: number | null;
  min: number | null;
  max: number | null;
  runs: number[];
  goal?: Goal;
  anchor?: Anchor;
  /** Why the figure is absent (median null). */
  missing?: string;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Summarizes the runs of one figure. */
export function figure(labels: Labels, metric: string, unit: string, runs: readonly number[], extra?: { goal?: Goal; anchor?: Anchor }): Figure {
  if (runs.length === 0) throw new RangeError(`figure ${metric}: no runs`);
  return {
    labels,
    metric,
    unit,
    median: round(median(runs)),
    min: round(Math.min(...runs)),
    max: round(Math.max(...runs)),
    runs: runs.map(round),
    ...extra,
  };
}

/** A figure that could not be measured, with the reason. */
export function missingFigure(labels: Labels, metric: string, unit: string, reason: string, extra?: { goal?: Goal; anchor?: Anchor }): Figure {
  return { labels, metric, unit, median: null, min: null, max: null, runs: [], missing: reason, ...extra };
}

function round(x: number): number {
  return Math.abs(x) >= 100 ? Math.round(x) : Math.round(x * 1000) / 1000;
}

export interface ScenarioResult {
  settings: Record<string, unknown>;
  figures: Figure[];
  notes: string[];
}

/** Writes bench/results/<date>-<scenario>.json and returns its path. */
export function writeScenarioResult(scenario: string, command: string, startLoad: number[], r: ScenarioResult): string {
  const date = new Date().toISOString();
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${date.slice(0, 10)}-${scenario}.json`, dir);
  const body = {
    scenario,
    date,
    command,
    machine: machine(),
    loadAvg: { start: startLoad, end: loadNow() },
    settings: r.settings,
    notes: r.notes,
    figures: r.figures,
  };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return file.pathname;
}

export function loadNow(): number[] {
  return loadavg().map((x) => +x.toFixed(2));
}

/** Runs `fn` and returns its wall time and the CPU time of this whole process (all threads), in seconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; wallS: number; cpuS: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallS = (performance.now() - t0) / 1000;
  const c = process.cpuUsage(c0);
  return { value, wallS, cpuS: (c.user + c.system) / 1e6 };
}

export function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

/**
 * Resets this process's peak RSS (Linux: `5` into /proc/self/clear_refs), so
 * that processPeakRssMiB() covers what ran since. False where unsupported.
 */
export function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

/** This process's peak RSS (VmHWM: every thread, native memory included), MiB; undefined off Linux. */
export function processPeakRssMiB(): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

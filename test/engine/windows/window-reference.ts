/**
 * A plain reference model of tumbling/hopping windows with lateness, for the
 * property tests: no panes, no state, no timers; just the definitions.
 *
 * The watermark when record i arrives is max(t_0..t_{i-1}) - bound (the
 * runtime advances it after each batch; the harness sends one record per
 * batch). Record i counts in window [e - size, e) iff it lies in it and
 * e + lateness > watermark_i. It goes to the late side output iff it counts
 * in none of its windows.
 */
import type { In } from './window-harness.ts';

export interface RefWindow {
  key: string;
  start: number;
  end: number;
  n: number;
  sum: number;
  distinct: number;
}

export interface RefResult {
  windows: RefWindow[];
  late: In[];
}

export function referenceWindows(events: readonly In[], size: number, slide: number, bound: number, lateness: number): RefResult {
  const acc = new Map<string, { key: string; start: number; end: number; vals: number[] }>();
  const late: In[] = [];
  let max = -Infinity;
  for (const e of events) {
    const wm = max - bound;
    let counted = false;
    // Every window containing e.t: ends are multiples of slide in (t, t + size].
    for (let end = Math.floor(e.t / slide) * slide + slide; end - size <= e.t; end += slide) {
      if (end <= e.t) continue;
      if (end + lateness <= wm) continue;
      counted = true;
      const id = `${e.k}|${end}`;
      let w = acc.get(id);
      if (!w) acc.set(id, (w = { key: e.k, start: end - size, end, vals: [] }));
      w.vals.push(e.v);
    }
    if (!counted) late.push(e);
    if (e.t > max) max = e.t;
  }
  const windows = [...acc.values()].map((w) => ({
    key: w.key,
    start: w.start,
    end: w.end,
    n: w.vals.length,
    sum: w.vals.reduce((a, b) => a + b, 0),
    distinct: new Set(w.vals.map((v) => v % 3)).size,
  }));
  return { windows: sortWindows(windows), late };
}

/** Sessions per key from all records (no lateness): split where the next record is >= gap after the last. */
export function referenceSessions(events: readonly In[], gap: number): Array<{ key: string; start: number; end: number; n: number; sum: number }> {
  const byKey = new Map<string, In[]>();
  for (const e of events) {
    const l = byKey.get(e.k) ?? [];
    l.push(e);
    byKey.set(e.k, l);
  }
  const out: Array<{ key: string; start: number; end: number; n: number; sum: number }> = [];
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.t - b.t);
    let cur: { key: string; start: number; end: number; n: number; sum: number } | undefined;
    for (const e of list) {
      if (cur && e.t < cur.end) {
        cur.end = Math.max(cur.end, e.t + gap);
        cur.n++;
        cur.sum += e.v;
      } else {
        if (cur) out.push(cur);
        cur = { key, start: e.t, end: e.t + gap, n: 1, sum: e.v };
      }
    }
    if (cur) out.push(cur);
  }
  return sortWindows(out);
}

export function sortWindows<T extends { key: string; start: number }>(ws: T[]): T[] {
  return ws.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.start - b.start));
}

/** The last emission per (key, start): what an upsert sink ends up holding. */
export function finalByWindow<T extends { key: string | number; start: number }>(emitted: readonly T[]): T[] {
  const last = new Map<string, T>();
  for (const w of emitted) last.set(`${w.key}|${w.start}`, w);
  return [...last.values()];
}

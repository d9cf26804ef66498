/**
 * State at scale: `keys` live join keys (unpaid orders, each a value and an
 * expiry timer) held by one process (bench/jobs/state-scale.ts, run by
 * state-scale-child.ts), then SIGKILL and restart on the same state dir.
 *
 * Reported: load rate; RSS (peak while loading, and once loaded); LMDB size
 * on disk (blocks allocated); checkpoint duration while loading (each one
 * writes about a second's worth of new keys and timers) and once loaded
 * (nothing dirty); after SIGKILL, the time from starting the new process to
 * its first processed record, and its RSS once it processes again.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { figure, log, type Figure, type ScenarioResult } from '../bench-harness.ts';
import type { Scenario, ScenarioOptions } from '../scenario.ts';

interface StatsLine {
  t: number;
  rss: number;
  ordersIn: number;
  ticksIn: number;
  checkpoints: number;
  lastCheckpointMs: number;
  lastCheckpointAt: number;
  stateKeys: number;
  cachedEntries: number;
}

interface Child {
  proc: ChildProcess;
  lines: StatsLine[];
  firstTick: number;
  /** Peak RSS of the process from /proc (VmHWM), bytes. */
  peakRss(): number;
  exited: Promise<number | null>;
}

const script = fileURLToPath(new URL('./state-scale-child.ts', import.meta.url));

function startChild(stateDir: string, keys: number, partitions: number, workers: number, timers: string): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', script, stateDir, String(keys), String(partitions), String(workers), timers], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const c: Child = {
    proc,
    lines: [],
    firstTick: 0,
    peakRss: () => vmHwm(proc.pid!),
    exited: new Promise((r) => proc.once('close', (code) => r(code))),
  };
  let buf = '';
  proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (!line.startsWith('{')) continue;
      const x = JSON.parse(line) as Partial<StatsLine> & { firstTick?: number };
      if (x.firstTick !== undefined) {
        if (c.firstTick === 0 || x.firstTick < c.firstTick) c.firstTick = x.firstTick;
      } else c.lines.push(x as StatsLine);
    }
  });
  return c;
}

function vmHwm(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Bytes allocated on disk under a directory (LMDB files can be sparse). */
function diskBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    total += e.isDirectory() ? diskBytes(p) : statSync(p).blocks * 512;
  }
  return total;
}

async function until<T>(what: string, timeoutS: number, fn: () => T | undefined, child?: Child): Promise<T> {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (child && child.proc.exitCode !== null) throw new Error(`state-scale: the job process exited (${child.proc.exitCode}) while waiting for ${what}`);
    if (Date.now() > deadline) throw new Error(`state-scale: timed out after ${timeoutS} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const MiB = 1024 * 1024;

export const stateScaleScenario: Scenario = {
  name: 'state-scale',
  description: '10M live join keys (unpaid orders: value + timer) in one process: RSS, LMDB size, checkpoint time, SIGKILL-to-processing',
  defaults: { keys: 10_000_000, timers: 'join', partitions: 4, workers: 2, steadyS: 10, timeoutS: 1800 },
  async run(o): Promise<ScenarioResult> {
    const keys = Number(o.keys);
    const figures: Figure[] = [];
    for (const timers of String(o.timers).split(',')) figures.push(...(await measure(o, keys, timers)));
    return {
      settings: { keys, partitions: o.partitions, workers: o.workers, timers: String(o.timers).split(','), cacheMaxEntriesPerActor: 100_000, checkpointIntervalMs: 1000 },
      figures,
      notes: [
        'One process, one LMDB environment; each key holds an order (seed 001 shape, about 150 bytes) in value state and one event-time timer, as an orders ⋈ payments join holds an unpaid order.',
        '"processing again" is the first record a restarted actor processes, measured from the restart of the process (node start-up and worker start included).',
        '"orders re-read after restart" should be 0: the positions come back from the checkpoint.',
        'timers = join: the library IntervalJoin as jobs/orders-payments.ts configures it (its timers shared per second of expiry); per-key: a hand-written operator with one event-time timer per order; bucketed: the same with one timer per second and the orders of that second as map-state fields (bench/jobs/state-scale.ts). Pass --timers join,per-key,bucketed to compare.',
      ],
    };
  },
};

async function measure(o: ScenarioOptions, keys: number, timers: string): Promise<Figure[]> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-bench-scale-'));
  const stateDir = join(dir, 'state');
  const figures: Figure[] = [];
  const L = { keys, timers };
  let child: Child | undefined;
  try {
    child = startChild(stateDir, keys, Number(o.partitions), Number(o.workers), timers);
    const c1 = child;
    const t0 = Date.now();
    // Loaded: every order ingested, and a checkpoint finished after that (the keys are durable).
    const loadedAt = await until('the load', Number(o.timeoutS), () => c1.lines.find((l) => l.ordersIn >= keys)?.t, c1);
    const durableAt = await until('a checkpoint after the load', 120, () => c1.lines.find((l) => l.lastCheckpointAt > loadedAt)?.t, c1);
    const loadS = (loadedAt - t0) / 1000;
    log(`state-scale ${timers}: ${keys} keys loaded in ${loadS.toFixed(1)} s, durable at +${((durableAt - loadedAt) / 1000).toFixed(1)} s`);
    const loading = c1.lines.filter((l) => l.t <= durableAt && l.lastCheckpointMs > 0).map((l) => l.lastCheckpointMs);
    await new Promise((r) => setTimeout(r, Number(o.steadyS) * 1000));
    const steady = c1.lines.filter((l) => l.t > durableAt);
    figures.push(figure(L, 'load rate', 'keys/s', [keys / loadS]));
    figures.push(figure(L, 'RSS peak while loading', 'MiB', [c1.peakRss() / MiB], { goal: { op: '<=', value: 1536, source: 'issue 8: below 1.5 GB' } }));
    figures.push(figure(L, 'RSS once loaded', 'MiB', steady.map((l) => l.rss / MiB)));
    figures.push(figure(L, 'LMDB on disk', 'MiB', [diskBytes(stateDir) / MiB]));
    figures.push(figure(L, 'checkpoint while loading', 'ms', loading.length ? loading : [NaN]));
    figures.push(figure(L, 'checkpoint once loaded', 'ms', steady.map((l) => l.lastCheckpointMs)));
    // SIGKILL, then a new process on the same state dir.
    c1.proc.kill('SIGKILL');
    await c1.exited;
    const restartAt = Date.now();
    child = startChild(stateDir, keys, Number(o.partitions), Number(o.workers), timers);
    const c2 = child;
    const firstTick = await until('the restarted process to process a record', 600, () => (c2.firstTick > 0 ? c2.firstTick : undefined), c2);
    const restartS = (firstTick - restartAt) / 1000;
    log(`state-scale ${timers}: SIGKILL -> processing again in ${restartS.toFixed(1)} s`);
    await until('stats of the restarted process', 60, () => (c2.lines.length >= 3 ? true : undefined), c2);
    const restored = c2.lines.at(-1)!;
    figures.push(figure(L, 'SIGKILL to processing again', 's', [restartS], { goal: { op: '<=', value: 10, source: 'issue 8' } }));
    figures.push(figure(L, 'RSS after restart', 'MiB', [restored.rss / MiB]));
    figures.push(figure(L, 'orders re-read after restart', 'records', [restored.ordersIn]));
  } finally {
    child?.proc.kill('SIGKILL');
    await child?.exited;
    rmSync(dir, { recursive: true, force: true });
  }
  return figures;
}

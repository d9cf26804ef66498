/**
 * Shared helpers for the state and codec benchmarks: a tiny timing loop and
 * the result file writer. Results go to bench/results/<YYYY-MM-DD>-<name>.json
 * together with the machine, the date and the command, so numbers quoted in
 * code comments can be traced back to where they were measured.
 */
import { cpus, platform, arch, totalmem, loadavg } from 'node:os';
import { mkdirSync, writeFileSync } from 'node:fs';

export interface Machine {
  cores: number;
  cpuModel: string;
  node: string;
  platform: string;
  arch: string;
  totalMemMiB: number;
  /** 1-minute load average when the results were written: other work skews timings. */
  loadAvg1m: number;
}

export function machine(): Machine {
  const list = cpus();
  return {
    cores: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    node: process.version,
    platform: platform(),
    arch: arch(),
    totalMemMiB: Math.round(totalmem() / 1024 / 1024),
    loadAvg1m: +loadavg()[0].toFixed(2),
  };
}

export interface Timing {
  opsPerSec: number;
  nsPerOp: number;
}

/**
 * Runs `fn(iterations)` `rounds` times after one warm-up round and returns the
 * median rate. `fn` loops itself, so the harness adds no per-op call overhead.
 */
export function measure(iterations: number, fn: (n: number) => void, rounds = 5): Timing {
  fn(Math.min(iterations, 10_000));
  const ns: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = process.hrtime.bigint();
    fn(iterations);
    ns.push(Number(process.hrtime.bigint() - t0));
  }
  ns.sort((a, b) => a - b);
  const median = ns[Math.floor(ns.length / 2)];
  return { opsPerSec: Math.round((iterations * 1e9) / median), nsPerOp: +(median / iterations).toFixed(1) };
}

/** Writes the result file and returns its path. */
export function writeResults(name: string, command: string, results: unknown, notes?: string): string {
  const date = new Date().toISOString();
  const dir = new URL('./results/', import.meta.url);
  mkdirSync(dir, { recursive: true });
  const file = new URL(`${date.slice(0, 10)}-${name}.json`, dir);
  const body = { date, command, machine: machine(), notes, results };
  writeFileSync(file, JSON.stringify(body, null, 2) + '\n');
  return file.pathname;
}

/**
 * A dev server's process, started the one way every server here starts one:
 * its output appended to a log file (not a pipe: a detached server outlives
 * the CLI that started it, and nobody would be left to drain a pipe), its pid
 * once spawned, how it exited, and, unless detached, an exit hook that kills
 * it if this process ends without stopping it.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ServerChild {
  readonly pid: number;
  /** `code N` or `signal S` once the process has exited, else undefined. */
  exited(): string | undefined;
}

export interface SpawnServerOptions {
  /** Where stdout and stderr go (appended). */
  logFile: string;
  cwd?: string;
  /** Own process group and no exit hook: it outlives this process (the CLI's `kafka start`). */
  detached?: boolean;
}

export async function spawnServer(command: string, args: string[], options: SpawnServerOptions): Promise<ServerChild> {
  const out = openSync(options.logFile, 'a');
  let child;
  try {
    child = spawn(command, args, { cwd: options.cwd, detached: options.detached === true, stdio: ['ignore', out, out] });
  } finally {
    closeSync(out);
  }
  const spawned = child;
  const pid = await new Promise<number>((resolve, reject) => {
    spawned.once('spawn', () => resolve(spawned.pid!));
    spawned.once('error', reject);
  });
  let exit: string | undefined;
  spawned.once('exit', (code, signal) => (exit = signal ? `signal ${signal}` : `code ${code}`));
  // Never let the server keep this process's event loop alive; stop() and
  // the exit hook are what end it.
  spawned.unref();
  if (options.detached !== true) killAtExit(pid);
  return { pid, exited: () => exit };
}

/** Servers to signal when this process exits, by pid. */
const atExit = new Map<number, NodeJS.Signals>();
let hooked = false;

/**
 * Sends `signal` to the pid when this process exits, unless releaseAtExit()
 * came first. 'exit' handlers must be synchronous, so there is no graceful
 * stop here; this only keeps a crashed test run from leaving a server behind.
 */
export function killAtExit(pid: number, signal: NodeJS.Signals = 'SIGKILL'): void {
  atExit.set(pid, signal);
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const [p, s] of atExit) {
      try {
        process.kill(p, s);
      } catch {
        // already gone
      }
    }
  });
}

/** The server was stopped (or never came up): the exit hook leaves its pid alone. */
export function releaseAtExit(pid: number): void {
  atExit.delete(pid);
}

export interface ReadyResult {
  ok: boolean;
  /** Set when the process exited before it was ready. */
  exited?: string;
  /** Why the last probe failed. */
  reason?: string;
}

/**
 * Probes until the server answers, it exits, or the deadline passes. `probe`
 * resolves undefined when the server is ready, else why not; it is tried at
 * least once, and again every intervalMs.
 */
export async function waitUntilReady(
  server: ServerChild,
  probe: () => Promise<string | undefined>,
  options: { timeoutMs: number; intervalMs: number },
): Promise<ReadyResult> {
  const deadline = Date.now() + options.timeoutMs;
  let reason: string | undefined;
  for (;;) {
    const exited = server.exited();
    if (exited) return { ok: false, exited, reason };
    reason = await probe();
    if (reason === undefined) return { ok: true };
    if (Date.now() > deadline) return { ok: false, reason };
    await sleep(options.intervalMs);
  }
}

/**
 * Runs `sluice` as a child process (the real CLI, as a user would), for tests
 * that kill, restart and signal it. Processes still alive when the test file
 * ends are killed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll } from 'vitest';

const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));
const live = new Set<ChildProcess>();
let hooked = false;

export interface SluiceProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

export function startSluice(args: string[], env: NodeJS.ProcessEnv = {}): SluiceProcess {
  if (!hooked) {
    hooked = true;
    afterAll(() => {
      for (const c of live) c.kill('SIGKILL');
    });
  }
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => {
    live.delete(child);
    return (code as number | null) ?? (signal as string);
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

export async function runSluice(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | string; stdout: string; stderr: string }> {
  const p = startSluice(args, env);
  const code = await p.exited;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` until it returns true, or throws after `timeoutMs` with `what` in the message. */
export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await fn()) return;
    await sleep(everyMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

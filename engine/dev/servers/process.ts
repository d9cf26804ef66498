/**
 * Child processes for the test servers: run a tool to completion, check
 * whether a pid is still the process we think it is, and stop it with a bound.
 *
 * Servers write their output to files rather than pipes: a detached broker
 * outlives the CLI that started it, and nobody would be left to drain a pipe.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) when it runs longer than this. */
  timeoutMs?: number;
}

/** Runs a command without a shell (no quoting surprises) and collects its output. */
export function runCommand(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.timeoutMs).unref();
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Like runCommand, but a non-zero exit becomes an error carrying the output tail. */
export async function runChecked(command: string, args: string[], options: RunOptions = {}): Promise<CommandResult> {
  const result = await runCommand(command, args, options);
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with code ${result.code}`;
    const output = tailLines(`${result.stdout}\n${result.stderr}`, 40);
    throw new Error(`\`${command} ${args.join(' ')}\` ${how}.\n${output}`);
  }
  return result;
}

/** True while a process with this pid exists (signal 0 probes without signalling). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else; that still counts as alive.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The command line of a running process, or undefined when it is gone. Used to
 * make sure a pid read from a state file still belongs to our broker before we
 * signal it: pids are reused, and killing a stranger would be bad.
 */
export async function processCommandLine(pid: number): Promise<string | undefined> {
  const procFile = `/proc/${pid}/cmdline`;
  if (existsSync('/proc/self/cmdline')) {
    try {
      return readFileSync(procFile, 'utf8').split('\0').join(' ').trim();
    } catch {
      return undefined;
    }
  }
  // macOS and friends have no /proc; ps is always there.
  const result = await runCommand('ps', ['-o', 'command=', '-p', String(pid)]).catch(() => undefined);
  return result?.code === 0 ? result.stdout.trim() : undefined;
}

/** Polls until the pid is gone; resolves true if it went away in time. */
export async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isProcessAlive(pid)) return true;
    await sleep(100);
  }
  return !isProcessAlive(pid);
}

export interface TerminateResult {
  /** 'term' when it stopped on SIGTERM within the grace period, 'kill' when SIGKILL was needed. */
  how: 'not-running' | 'term' | 'kill';
  ms: number;
}

/**
 * SIGTERM, wait up to graceMs, then SIGKILL. A graceful stop lets the JVM run
 * its shutdown hooks (Kafka closes its logs cleanly); the bound keeps a stuck
 * JVM from hanging a test run.
 */
export async function terminate(pid: number, graceMs: number): Promise<TerminateResult> {
  const started = Date.now();
  if (!isProcessAlive(pid)) return { how: 'not-running', ms: 0 };
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return { how: 'term', ms: Date.now() - started };
  signal(pid, 'SIGKILL');
  if (!(await waitForExit(pid, 10_000))) {
    throw new Error(`process ${pid} survived SIGKILL for 10s`);
  }
  return { how: 'kill', ms: Date.now() - started };
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

/** The last `lines` lines of a text. */
export function tailLines(text: string, lines: number): string {
  return text.trimEnd().split('\n').slice(-lines).join('\n');
}

/**
 * The last lines of a log file, reading at most the final 64 KiB so a large
 * log is not pulled into memory just to show an error. '' if it does not exist.
 */
export async function tailFile(path: string, lines: number): Promise<string> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch {
    return '';
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, 64 * 1024);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    return tailLines(buffer.toString('utf8'), lines);
  } finally {
    await handle.close();
  }
}

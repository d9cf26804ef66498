/**
 * `sluice dev up|status|down [kafka] [cassandra] [mongo] [bigquery] [postgres] [prometheus]`:
 * the servers the tests use, for running jobs by hand.
 *
 * `up` installs what is missing (Maven Central, the Go module proxy, Debian;
 * cached in ${SLUICE_CACHE_DIR:-~/.cache/sluice}), then starts each server
 * under a supervisor of its own: a detached `sluice dev __serve <name>`
 * process that starts the server with the tests' code, records it in
 * `<cache>/dev/<name>.json`, and stops it on SIGTERM. The supervisors outlive
 * the command. Then `up` prints each address and writes the env file
 * (`.sluice/dev.env` unless --env-out) that `sluice run` reads.
 *
 * Supervisor life cycle (one per server):
 *
 *   spawned ──server ready──▶ SERVING (state file written) ──SIGTERM──▶ stopping ──▶ gone (state file removed)
 *      │                          │
 *      └── start failed ──▶ gone, the error in <name>.log; the server died ──▶ gone, state file removed
 *
 * Data lives in fresh temp directories and goes with `down`: these are
 * servers to try jobs on, not to keep data in.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_ENV_FILE } from './env-file.ts';
import { cacheRoot } from './servers/cache.ts';
import { isProcessAlive, processCommandLine, tailFile, terminate } from './servers/process.ts';
import { DEV_SERVERS, isDevServer, SPECS, type DevServerInfo, type DevServerName } from './dev-servers.ts';

export interface DevIo {
  out: (s: string) => void;
  err: (s: string) => void;
}

const USAGE = `usage: sluice dev up [server...] [--env-out FILE]   start servers in the background (default: all)
       sluice dev status                               show them
       sluice dev down [server...] [--env-out FILE]   stop them (default: all)
       sluice dev replay wikipedia|randomuser [--file F] [--port N] [--rate N]
                                                       serve recorded data like the live feed (foreground)

servers: ${DEV_SERVERS.join(', ')}
env file: ${DEFAULT_ENV_FILE} in this directory unless --env-out; \`sluice run\` reads it from there
state and logs: ${devDir()} (SLUICE_DEV_DIR moves it; else it follows SLUICE_CACHE_DIR)
`;

export function devDir(): string {
  return process.env.SLUICE_DEV_DIR ?? join(cacheRoot(), 'dev');
}
const stateFile = (name: string): string => join(devDir(), `${name}.json`);
const logFile = (name: string): string => join(devDir(), `${name}.log`);
export const targetsDir = (): string => join(devDir(), 'targets');

interface DevState extends DevServerInfo {
  supervisorPid: number;
  startedAt: string;
}

function readState(name: DevServerName): DevState | undefined {
  try {
    return JSON.parse(readFileSync(stateFile(name), 'utf8')) as DevState;
  } catch {
    return undefined;
  }
}

/** The servers recorded and still supervised; a stale record (its supervisor gone) is removed. */
export function runningServers(): DevState[] {
  const out: DevState[] = [];
  for (const name of DEV_SERVERS) {
    const s = readState(name);
    if (!s) continue;
    if (isProcessAlive(s.supervisorPid)) out.push(s);
    else rmSync(stateFile(name), { force: true });
  }
  return out;
}

/** The `sluice` command to run a supervisor with: this package's bin, found upward from this file. */
function sluiceBin(): string {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    const bin = join(d, 'bin', 'sluice.js');
    if (existsSync(bin)) return bin;
  }
  throw new Error('cannot find bin/sluice.js above ' + fileURLToPath(import.meta.url));
}

export async function devCommand(argv: string[], io: DevIo): Promise<number> {
  if (argv[0] === 'replay') return (await import('./replay.ts')).replayCommand(argv.slice(1), io);
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { 'env-out': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`sluice dev: ${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const [cmd, ...names] = parsed.positionals;
  if (cmd === '__serve') {
    return serve(names[0] as DevServerName).catch((err: Error) => {
      io.err(`sluice dev: ${names[0]} did not start: ${err.message}\n`);
      return 1;
    });
  }
  if (parsed.values.help || cmd === undefined || !['up', 'status', 'down'].includes(cmd)) {
    (parsed.values.help ? io.out : io.err)(USAGE);
    return parsed.values.help ? 0 : 2;
  }
  const unknown = names.filter((n) => !isDevServer(n));
  if (unknown.length) {
    io.err(`sluice dev: unknown server(s) ${unknown.join(', ')}; choose from ${DEV_SERVERS.join(', ')}\n`);
    return 2;
  }
  const chosen = (names.length ? [...new Set(names)] : [...DEV_SERVERS]) as DevServerName[];
  const envFile = resolve(parsed.values['env-out'] ?? DEFAULT_ENV_FILE);
  mkdirSync(devDir(), { recursive: true });
  try {
    if (cmd === 'up') return await up(chosen, envFile, io);
    if (cmd === 'down') return await down(chosen, envFile, io);
    return status(io);
  } catch (err) {
    io.err(`sluice dev ${cmd}: ${(err as Error).message}\n`);
    return 1;
  }
}

async function up(names: DevServerName[], envFile: string, io: DevIo): Promise<number> {
  const started = Date.now();
  const already = new Map(runningServers().map((s) => [s.name, s]));
  const todo = names.filter((n) => !already.has(n));
  for (const n of names) if (already.has(n)) io.err(`${n}: already running (supervisor pid ${already.get(n)!.supervisorPid})\n`);
  // Installs first, in the foreground, so a download or build shows its progress here.
  for (const n of todo) {
    const t = Date.now();
    await SPECS[n].install((m) => io.err(`[${n}] ${m}\n`));
    io.err(`${n}: installed (${secs(Date.now() - t)})\n`);
  }
  mkdirSync(targetsDir(), { recursive: true });
  const bin = sluiceBin();
  const waits = todo.map(async (n) => {
    const t = Date.now();
    rmSync(stateFile(n), { force: true });
    const log = openSync(logFile(n), 'w');
    const child = spawn(process.execPath, [bin, 'dev', '__serve', n], { detached: true, stdio: ['ignore', log, log], env: { ...process.env, SLUICE_DEV_DIR: devDir() } });
    closeSync(log);
    let exited: string | undefined;
    child.once('exit', (code, signal) => (exited = signal ?? String(code)));
    child.unref();
    // Cassandra under load takes its time; a cold install already happened above.
    const deadline = Date.now() + 300_000;
    for (;;) {
      const s = readState(n);
      if (s) {
        io.err(`${n}: ready at ${s.address} in ${secs(Date.now() - t)}\n`);
        return true;
      }
      if (exited !== undefined || Date.now() > deadline) {
        if (exited === undefined) child.kill('SIGTERM');
        io.err(`${n}: did not start (${exited === undefined ? 'timed out' : `supervisor exited ${exited}`}); ${logFile(n)}:\n${await tailFile(logFile(n), 20)}\n`);
        return false;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  });
  const ok = (await Promise.all(waits)).every(Boolean);
  const running = runningServers();
  writeEnvFile(envFile, running);
  io.out(describe(running, envFile));
  io.err(`sluice dev up: ${ok ? 'done' : 'some servers failed'} in ${secs(Date.now() - started)}\n`);
  return ok ? 0 : 1;
}

async function down(names: DevServerName[], envFile: string, io: DevIo): Promise<number> {
  const running = runningServers().filter((s) => names.includes(s.name));
  if (running.length === 0) io.out('no sluice dev server is running\n');
  await Promise.all(
    running.map(async (s) => {
      const t = Date.now();
      // Pids are reused: signal only a process that is still our supervisor.
      const cmd = await processCommandLine(s.supervisorPid);
      if (cmd?.includes('__serve')) await terminate(s.supervisorPid, 60_000);
      if (isProcessAlive(s.serverPid)) await terminate(s.serverPid, 30_000);
      rmSync(stateFile(s.name), { force: true });
      io.out(`${s.name}: stopped (${secs(Date.now() - t)})\n`);
    }),
  );
  const left = runningServers();
  if (left.length) writeEnvFile(envFile, left);
  else rmSync(envFile, { force: true });
  // Targets of runs killed without cleaning up would have Prometheus scrape nothing forever.
  if (!left.some((s) => s.name === 'prometheus')) rmSync(targetsDir(), { recursive: true, force: true });
  return 0;
}

async function status(io: DevIo): Promise<number> {
  const running = runningServers();
  if (running.length === 0) {
    io.out('no sluice dev server is running (start them with `sluice dev up`)\n');
    return 1;
  }
  let ok = true;
  for (const s of running) {
    const alive = isProcessAlive(s.serverPid);
    const answers = alive && (await connects(s.address));
    ok &&= answers;
    io.out(`${s.name.padEnd(11)}${(answers ? 'up' : alive ? 'not answering' : 'server gone').padEnd(15)}${s.address.padEnd(22)}pid ${String(s.serverPid).padEnd(8)}since ${s.startedAt}  ${s.what}\n`);
  }
  const targets = existsSync(targetsDir()) ? readdirSync(targetsDir()).filter((f) => f.endsWith('.json')) : [];
  if (running.some((s) => s.name === 'prometheus')) io.out(`prometheus scrapes ${targets.length} sluice run(s): ${targets.join(' ') || '(none now)'}\n`);
  return ok ? 0 : 1;
}

/** The env file `sluice run` reads: one entry per variable, SLUICE_DEV_SET merged. */
export function envLines(servers: readonly DevServerInfo[]): string[] {
  const env: Record<string, string> = {};
  const settings: string[] = [];
  for (const s of servers) {
    Object.assign(env, s.env);
    for (const [k, v] of Object.entries(s.settings)) settings.push(`${k}=${v}`);
  }
  if (settings.length) env.SLUICE_DEV_SET = settings.join(',');
  return Object.entries(env).map(([k, v]) => `${k}=${v}`);
}

function writeEnvFile(path: string, servers: readonly DevServerInfo[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const head = [
    `# Written by \`sluice dev up\` at ${new Date().toISOString()}; \`sluice dev down\` removes it.`,
    '# `sluice run` reads it from .sluice/dev.env (or `sluice run --env-from FILE` / SLUICE_ENV_FILE); the environment and flags win.',
    '# SLUICE_DEV_SET: settings for the jobs that declare them (a job ignores the others).',
  ];
  writeFileSync(path, [...head, ...envLines(servers), ''].join('\n'));
}

function describe(servers: readonly DevServerInfo[], envFile: string): string {
  const lines = [''];
  for (const s of [...servers].sort((a, b) => DEV_SERVERS.indexOf(a.name) - DEV_SERVERS.indexOf(b.name))) {
    lines.push(`${s.name}: ${s.what}`, `  address   ${s.address}${s.url && !s.url.endsWith(s.address) ? `  (${s.url})` : ''}`);
    for (const [k, v] of Object.entries(s.env)) lines.push(`  env       ${k}=${v}`);
    for (const [k, v] of Object.entries(s.settings)) lines.push(`  --set     ${k}=${v}`);
    if (s.name === 'kafka') lines.push(`  --brokers ${s.address}`);
  }
  lines.push('', `env file: ${envFile} (sluice run reads it from ${DEFAULT_ENV_FILE}; or: set -a; . ${envFile}; set +a)`, 'stop them: sluice dev down (in a clone: node bin/sluice.js dev down)', '');
  return lines.join('\n');
}

/** The supervisor: starts one server, records it, and stops it on SIGTERM or SIGINT. */
async function serve(name: DevServerName): Promise<number> {
  if (!isDevServer(name)) return 2;
  const log = (m: string): void => void process.stderr.write(`[${name}] ${m}\n`);
  const { info, stop } = await SPECS[name].start({ log, targetsDir: targetsDir() });
  const state: DevState = { ...info, supervisorPid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(`${stateFile(name)}.tmp`, JSON.stringify(state, null, 2));
  // Renamed into place: `up` must never read half a file.
  renameSync(`${stateFile(name)}.tmp`, stateFile(name));
  log(`serving at ${info.address} (pid ${info.serverPid})`);
  return new Promise<number>((resolveExit) => {
    let stopping = false;
    const finish = async (why: string, code: number): Promise<void> => {
      if (stopping) return;
      stopping = true;
      clearInterval(watch);
      log(`${why}: stopping`);
      await stop().catch((err: Error) => log(`stop failed: ${err.message}`));
      rmSync(stateFile(name), { force: true });
      resolveExit(code);
    };
    // Also what keeps this process alive: signal handlers alone would not.
    const watch = setInterval(() => {
      if (!isProcessAlive(info.serverPid)) void finish('the server exited', 1);
    }, 2_000);
    process.once('SIGTERM', () => void finish('SIGTERM', 0));
    process.once('SIGINT', () => void finish('SIGINT', 0));
  });
}

function connects(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolveConn) => {
    const sock = net.connect({ host: address.slice(0, i), port: Number(address.slice(i + 1)) });
    const done = (ok: boolean): void => {
      sock.destroy();
      resolveConn(ok);
    };
    sock.setTimeout(3_000, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)} s`;
}

/**
 * What the JVM peers (Flink, Kafka Streams) share: a Maven build into the
 * cache, skipped while a stamp holds the hash of its sources; a run that
 * takes the peer's one-line JSON report from stdout; and the JVM's figures
 * from /proc, read when the report line comes (before the process exits and
 * its /proc entry goes).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { runChecked, tailLines } from '../../engine/dev/servers/process.ts';
import { requireJava, requireMaven } from '../../engine/dev/servers/prerequisites.ts';

export interface MavenPeerBuild {
  /** The peer's Maven project (pom.xml and sources), in the git tree. */
  projectDir: string;
  /** Where it compiles to, in the cache: classes/ and lib/*.jar. */
  buildDir: string;
  /** Which files of the project the build depends on, besides pom.xml. */
  isSource: (name: string) => boolean;
  /** The progress line of a build. */
  message: string;
  timeoutMs: number;
}

function sourceHash(b: MavenPeerBuild): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((x, y) => x.name.localeCompare(y.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (b.isSource(e.name) || e.name === 'pom.xml') h.update(p.slice(b.projectDir.length)).update(readFileSync(p));
    }
  };
  walk(b.projectDir);
  return h.digest('hex');
}

/** Compiles the peer unless the cached build matches the sources; returns the build dir. */
export async function buildMavenPeer(b: MavenPeerBuild, log: (m: string) => void): Promise<string> {
  const stamp = join(b.buildDir, '.sources.sha256');
  const hash = sourceHash(b);
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return b.buildDir;
  const mvn = await requireMaven();
  log(b.message);
  await runChecked(mvn, ['-B', '-q', `-Dpeer.buildDir=${b.buildDir}`, 'compile', 'dependency:copy-dependencies'], { cwd: b.projectDir, timeoutMs: b.timeoutMs });
  writeFileSync(stamp, hash);
  return b.buildDir;
}

export interface JvmPeerRun<S> {
  /** The peer's report: the first stdout line that starts with `{`, parsed. */
  report: unknown;
  /** What `sample` read of the JVM when the report came, if it could. */
  sample: S | undefined;
}

/**
 * Runs `mainClass` of a built peer with `jvmArgs` before it and `args` after
 * it, to its exit. `sample(pid)` is called when the first stdout line is
 * complete (and on later output while it returns undefined); `killAfterMs` bounds a peer that has no timeout of its own.
 */
export async function runJvmPeer<S>(o: {
  what: string;
  buildDir: string;
  jvmArgs: string[];
  mainClass: string;
  args: string[];
  sample: (pid: number) => S | undefined;
  killAfterMs?: number;
}): Promise<JvmPeerRun<S>> {
  const java = await requireJava();
  const cp = `${join(o.buildDir, 'classes')}:${join(o.buildDir, 'lib', '*')}`;
  return new Promise((resolve, reject) => {
    const child = spawn(java, [...o.jvmArgs, '-cp', cp, o.mainClass, ...o.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let sample: S | undefined;
    const timer = o.killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), o.killAfterMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (sample === undefined && stdout.includes('\n')) sample = o.sample(child.pid!);
    });
    // Only the tail goes into an error message.
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`${o.what} exited with ${code}: ${tailLines(`${stdout}\n${stderr}`, 30)}`));
        return;
      }
      resolve({ report: JSON.parse(line), sample });
    });
  });
}

/** utime + stime of a process from /proc/<pid>/stat (Linux; undefined elsewhere). */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are at 11 and 12 after the command name.
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return undefined;
  }
}

/** VmHWM of a process, MiB (Linux; undefined elsewhere). */
export function procPeakRssMiB(pid: number): number | undefined {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

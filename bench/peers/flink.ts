/**
 * Builds and runs the Flink peer (bench/peers/flink/): Flink 1.20 from Maven
 * Central with its Kafka connector and JSON format, in a local mini-cluster,
 * running one Nexmark query's SQL over the events topic.
 *
 * Build: `mvn compile dependency:copy-dependencies` with the build directory
 * in the cache, `${SLUICE_CACHE_DIR:-~/.cache/sluice}/flink-peer/` (classes/
 * and lib/*.jar), never in the git tree. A stamp file holds a hash of the pom,
 * the Java sources and the SQL; the build is skipped while it matches.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../../engine/dev/servers/cache.ts';
import { runChecked, tailLines } from '../../engine/dev/servers/process.ts';
import { requireJava, requireMaven } from '../../engine/dev/servers/prerequisites.ts';
import { procCpuSeconds } from './kafka-streams.ts';

const projectDir = fileURLToPath(new URL('./flink/', import.meta.url));

export function flinkBuildDir(): string {
  return join(cacheRoot(), 'flink-peer');
}

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.java') || e.name.endsWith('.sql') || e.name === 'pom.xml') h.update(p.slice(projectDir.length)).update(readFileSync(p));
    }
  };
  walk(projectDir);
  return h.digest('hex');
}

/** Compiles the peer unless the cached build matches the sources; returns the build dir. */
export async function buildFlinkPeer(log: (m: string) => void): Promise<string> {
  const out = flinkBuildDir();
  const stamp = join(out, '.sources.sha256');
  const hash = sourceHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return out;
  const mvn = await requireMaven();
  log(`building the Flink peer into ${out} (mvn compile; the first time downloads Flink 1.20 and its Kafka connector from Maven Central, ~150 MB)`);
  await runChecked(mvn, ['-B', '-q', `-Dpeer.buildDir=${out}`, 'compile', 'dependency:copy-dependencies'], { cwd: projectDir, timeoutMs: 20 * 60_000 });
  writeFileSync(stamp, hash);
  return out;
}

export interface FlinkRun {
  query: string;
  /** From the job's RUNNING status to its end (the topic read to its end offsets at start). */
  runningMs: number;
  /** JVM CPU seconds over the same span, from /proc/self/stat. */
  runningCpuS: number;
  /** From submission (planning, code generation, deployment included). */
  totalMs: number;
  totalCpuS: number;
  /** Peak RSS of the JVM (VmHWM), MiB, when /proc has it. */
  peakRssMiB: number | undefined;
}

export interface FlinkArgs {
  brokers: string;
  topic: string;
  query: string;
  parallelism: number;
  stateBackend: 'rocksdb' | 'hashmap';
  checkpointMs: number;
  heap: string;
  timeoutS: number;
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

/** Runs one query to the end of the topic; resolves with the peer's report. */
export async function runFlinkPeer(a: FlinkArgs): Promise<FlinkRun> {
  const java = await requireJava();
  const dir = flinkBuildDir();
  const cp = `${join(dir, 'classes')}:${join(dir, 'lib', '*')}`;
  const args = [
    `-Xmx${a.heap}`,
    // Flink 1.20 on Java 17 reflects into these packages.
    '--add-opens=java.base/java.util=ALL-UNNAMED',
    '--add-opens=java.base/java.lang=ALL-UNNAMED',
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
    '-cp',
    cp,
    'dev.sluice.bench.NexmarkQuery',
    a.brokers,
    a.topic,
    a.query,
    String(a.parallelism),
    'blackhole',
    a.stateBackend,
    String(a.checkpointMs),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let peak: number | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), a.timeoutS * 1000);
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      // The report line comes before exit: read the JVM's peak RSS now, while it still exists.
      if (peak === undefined && stdout.includes('\n')) peak = procPeakRssMiB(child.pid!);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr = (stderr + c).slice(-20_000)));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`Flink peer ${a.query} exited with ${code}: ${tailLines(`${stdout}\n${stderr}`, 30)}`));
        return;
      }
      const r = JSON.parse(line) as Omit<FlinkRun, 'peakRssMiB'>;
      resolve({ ...r, peakRssMiB: peak });
    });
  });
}

export { procCpuSeconds };

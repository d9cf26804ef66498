/**
 * Builds and runs the Kafka Streams peer (bench/peers/kafka-streams/).
 *
 * Build: `mvn compile dependency:copy-dependencies` with the build directory
 * in the cache, `${SLUICE_CACHE_DIR:-~/.cache/sluice}/kafka-streams-peer/`
 * (classes/ and lib/*.jar), never in the git tree. A stamp file holds a hash
 * of the pom and the Java sources; the build is skipped while it matches.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../../engine/dev/servers/cache.ts';
import { runChecked, tailLines } from '../../engine/dev/servers/process.ts';
import { requireJava, requireMaven } from '../../engine/dev/servers/prerequisites.ts';

const projectDir = fileURLToPath(new URL('./kafka-streams/', import.meta.url));

export function peerBuildDir(): string {
  return join(cacheRoot(), 'kafka-streams-peer');
}

function sourceHash(): string {
  const h = createHash('sha256');
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.java') || e.name === 'pom.xml') h.update(p.slice(projectDir.length)).update(readFileSync(p));
    }
  };
  walk(projectDir);
  return h.digest('hex');
}

/** Compiles the peer unless the cached build matches the sources; returns the build dir. */
export async function buildKafkaStreamsPeer(log: (m: string) => void): Promise<string> {
  const out = peerBuildDir();
  const stamp = join(out, '.sources.sha256');
  const hash = sourceHash();
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === hash) return out;
  const mvn = await requireMaven();
  log(`building the Kafka Streams peer into ${out} (mvn compile, first time downloads kafka-streams 3.9.1 from Maven Central)`);
  await runChecked(mvn, ['-B', '-q', `-Dpeer.buildDir=${out}`, 'compile', 'dependency:copy-dependencies'], { cwd: projectDir, timeoutMs: 10 * 60_000 });
  writeFileSync(stamp, hash);
  return out;
}

export interface PeerRun {
  records: number;
  joined: number;
  firstRecordMs: number;
  lastRecordMs: number;
  runningMs: number;
  /** CPU seconds of the JVM (user + system), from /proc when available. */
  cpuS: number | undefined;
}

export interface PeerArgs {
  brokers: string;
  ordersTopic: string;
  paymentsTopic: string;
  applicationId: string;
  stateDir: string;
  expectedRecords: number;
  threads: number;
  timeoutS: number;
  heap?: string;
}

/** Runs the peer until it has read every input record; resolves with its report line. */
export async function runKafkaStreamsPeer(a: PeerArgs): Promise<PeerRun> {
  const java = await requireJava();
  const dir = peerBuildDir();
  const cp = `${join(dir, 'classes')}:${join(dir, 'lib', '*')}`;
  const args = [
    `-Xmx${a.heap ?? '1g'}`,
    '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn',
    '-cp',
    cp,
    'dev.sluice.bench.OrdersPaymentsJoin',
    a.brokers,
    a.ordersTopic,
    a.paymentsTopic,
    a.applicationId,
    a.stateDir,
    String(a.expectedRecords),
    String(a.threads),
    String(a.timeoutS),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(java, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let cpuS: number | undefined;
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      // The report line comes before close(): read the JVM's CPU time now, while it still exists.
      if (cpuS === undefined && stdout.includes('\n')) cpuS = procCpuSeconds(child.pid!);
    });
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`Kafka Streams peer exited with ${code}: ${tailLines(`${stdout}\n${stderr}`, 30)}`));
        return;
      }
      resolve({ ...(JSON.parse(line) as Omit<PeerRun, 'cpuS'>), cpuS });
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

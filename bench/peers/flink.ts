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
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../../engine/dev/servers/cache.ts';
import { buildMavenPeer, procPeakRssMiB, runJvmPeer } from './jvm-peer.ts';

const projectDir = fileURLToPath(new URL('./flink/', import.meta.url));

export function flinkBuildDir(): string {
  return join(cacheRoot(), 'flink-peer');
}

/** Compiles the peer unless the cached build matches the sources; returns the build dir. */
export async function buildFlinkPeer(log: (m: string) => void): Promise<string> {
  const buildDir = flinkBuildDir();
  return buildMavenPeer(
    {
      projectDir,
      buildDir,
      isSource: (name) => name.endsWith('.java') || name.endsWith('.sql'),
      message: `building the Flink peer into ${buildDir} (mvn compile; the first time downloads Flink 1.20 and its Kafka connector from Maven Central, ~150 MB)`,
      timeoutMs: 20 * 60_000,
    },
    log,
  );
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

/** Runs one query to the end of the topic; resolves with the peer's report. */
export async function runFlinkPeer(a: FlinkArgs): Promise<FlinkRun> {
  const { report, sample } = await runJvmPeer({
    what: `Flink peer ${a.query}`,
    buildDir: flinkBuildDir(),
    jvmArgs: [
      `-Xmx${a.heap}`,
      // Flink 1.20 on Java 17 reflects into these packages.
      '--add-opens=java.base/java.util=ALL-UNNAMED',
      '--add-opens=java.base/java.lang=ALL-UNNAMED',
      '-Dorg.slf4j.simpleLogger.defaultLogLevel=error',
    ],
    mainClass: 'dev.sluice.bench.NexmarkQuery',
    args: [a.brokers, a.topic, a.query, String(a.parallelism), 'blackhole', a.stateBackend, String(a.checkpointMs)],
    sample: procPeakRssMiB,
    killAfterMs: a.timeoutS * 1000,
  });
  return { ...(report as Omit<FlinkRun, 'peakRssMiB'>), peakRssMiB: sample };
}

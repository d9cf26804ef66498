/**
 * Builds and runs the Kafka Streams peer (bench/peers/kafka-streams/).
 *
 * Build: `mvn compile dependency:copy-dependencies` with the build directory
 * in the cache, `${SLUICE_CACHE_DIR:-~/.cache/sluice}/kafka-streams-peer/`
 * (classes/ and lib/*.jar), never in the git tree. A stamp file holds a hash
 * of the pom and the Java sources; the build is skipped while it matches.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../../engine/dev/servers/cache.ts';
import { buildMavenPeer, procCpuSeconds, runJvmPeer } from './jvm-peer.ts';

const projectDir = fileURLToPath(new URL('./kafka-streams/', import.meta.url));

export function peerBuildDir(): string {
  return join(cacheRoot(), 'kafka-streams-peer');
}

/** Compiles the peer unless the cached build matches the sources; returns the build dir. */
export async function buildKafkaStreamsPeer(log: (m: string) => void): Promise<string> {
  const buildDir = peerBuildDir();
  return buildMavenPeer(
    {
      projectDir,
      buildDir,
      isSource: (name) => name.endsWith('.java'),
      message: `building the Kafka Streams peer into ${buildDir} (mvn compile, first time downloads kafka-streams 3.9.1 from Maven Central)`,
      timeoutMs: 10 * 60_000,
    },
    log,
  );
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
  const { report, sample } = await runJvmPeer({
    what: 'Kafka Streams peer',
    buildDir: peerBuildDir(),
    jvmArgs: [`-Xmx${a.heap ?? '1g'}`, '-Dorg.slf4j.simpleLogger.defaultLogLevel=warn'],
    mainClass: 'dev.sluice.bench.OrdersPaymentsJoin',
    // The peer stops itself after timeoutS.
    args: [a.brokers, a.ordersTopic, a.paymentsTopic, a.applicationId, a.stateDir, String(a.expectedRecords), String(a.threads), String(a.timeoutS)],
    sample: procCpuSeconds,
  });
  return { ...(report as Omit<PeerRun, 'cpuS'>), cpuS: sample };
}

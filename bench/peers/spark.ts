/**
 * Installs and runs the Spark Structured Streaming peer (bench/peers/spark/).
 *
 * Install: a Python venv in the cache, `${SLUICE_CACHE_DIR:-~/.cache/sluice}/spark-venv/`,
 * never in the git tree, with pyspark from PyPI (`pip install pyspark==VERSION`).
 * The Kafka connector (org.apache.spark:spark-sql-kafka-0-10_2.13 of the same
 * version) and its dependencies come from Maven Central through
 * `spark.jars.packages`, into an Ivy cache at `<cache>/spark-ivy/`, the first
 * time the peer runs. A stamp file in the venv holds the pinned version; the
 * install is skipped while it matches.
 *
 * Needs python3 (3.10+, with the venv module) and Java 17 on PATH.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheRoot } from '../../engine/dev/servers/cache.ts';
import { runChecked, tailLines } from '../../engine/dev/servers/process.ts';
import { requireJava } from '../../engine/dev/servers/prerequisites.ts';

/** The version the independent measurement of issue 19 used (Scala 2.13 build). */
export const PYSPARK_VERSION = '4.1.1';

const program = fileURLToPath(new URL('./spark/orders_payments_join.py', import.meta.url));

export function sparkVenvDir(): string {
  return join(cacheRoot(), 'spark-venv');
}

function ivyDir(): string {
  return join(cacheRoot(), 'spark-ivy');
}

/** Creates the venv and installs pyspark unless the cached one has the pinned version. */
export async function installSparkPeer(log: (m: string) => void): Promise<string> {
  await requireJava();
  const venv = sparkVenvDir();
  const python = join(venv, 'bin', 'python');
  const stamp = join(venv, '.sluice-pyspark-version');
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === PYSPARK_VERSION) return python;
  const system = process.env.SLUICE_PYTHON ?? 'python3';
  log(`installing pyspark ${PYSPARK_VERSION} from PyPI into ${venv} (about 450 MB, first time only)`);
  if (!existsSync(python)) await runChecked(system, ['-m', 'venv', venv], { timeoutMs: 5 * 60_000 });
  await runChecked(python, ['-m', 'pip', 'install', '-q', `pyspark==${PYSPARK_VERSION}`], { timeoutMs: 30 * 60_000 });
  writeFileSync(stamp, PYSPARK_VERSION);
  return python;
}

export interface SparkPeerArgs {
  brokers: string;
  ordersTopic: string;
  paymentsTopic: string;
  checkpointDir: string;
  expectedRecords: number;
  shufflePartitions: number;
  timeoutS: number;
  driverMemory?: string;
}

export interface SparkPeerRun {
  records: number;
  /** Rows with a payment (the Kafka Streams peer's inner-join count). */
  joined: number;
  /** Orders emitted without a payment once the watermark passed them. */
  unpaid: number;
  /** Start of the first micro-batch with input, epoch ms. */
  firstRecordMs: number;
  /** End of the query, epoch ms. */
  lastRecordMs: number;
  /** CPU seconds of the Python driver and its JVM from the query's start to its end (/proc). */
  cpuS: number;
  /** The same including the session's start-up (JVM launch, package resolution). */
  cpuTotalS: number;
  batches: number;
  startupS: number;
  spark: string;
}

/** Runs the peer over the whole backlog (availableNow); resolves with its report line. */
export async function runSparkPeer(a: SparkPeerArgs): Promise<SparkPeerRun> {
  const python = join(sparkVenvDir(), 'bin', 'python');
  const args = [
    program,
    'backlog',
    a.brokers,
    a.ordersTopic,
    a.paymentsTopic,
    a.checkpointDir,
    ivyDir(),
    String(a.expectedRecords),
    String(a.shufflePartitions),
    String(a.timeoutS),
  ];
  const env = { ...process.env, SPARK_PEER_DRIVER_MEMORY: a.driverMemory ?? '2g', PYSPARK_PYTHON: python };
  return new Promise((resolve, reject) => {
    const child = spawn(python, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('error', reject);
    child.once('close', (code) => {
      const line = stdout.split('\n').find((l) => l.startsWith('{'));
      if (code !== 0 || !line) {
        reject(new Error(`Spark peer exited with ${code}: ${tailLines(`${stdout}\n${stderr}`, 30)}`));
        return;
      }
      resolve(JSON.parse(line) as SparkPeerRun);
    });
  });
}

export interface SparkLiveArgs {
  brokers: string;
  ordersTopic: string;
  paymentsTopic: string;
  checkpointDir: string;
  shufflePartitions: number;
  driverMemory?: string;
  /** Upper bound on the whole live run (start-up, producing, draining). */
  timeoutS: number;
}

/** The peer in live mode, started and ready for records; `stop()` ends it and returns its samples. */
export interface SparkLive {
  stop(): Promise<{ samples: Array<[number, number]>; batches: number }>;
}

/** Starts the peer on live topics (the default trigger); resolves once its query waits for data. */
export function startSparkLive(a: SparkLiveArgs): Promise<SparkLive> {
  const python = join(sparkVenvDir(), 'bin', 'python');
  const args = [program, 'live', a.brokers, a.ordersTopic, a.paymentsTopic, a.checkpointDir, ivyDir(), '0', String(a.shufflePartitions), String(a.timeoutS)];
  const env = { ...process.env, SPARK_PEER_DRIVER_MEMORY: a.driverMemory ?? '2g', PYSPARK_PYTHON: python };
  const child = spawn(python, args, { stdio: ['pipe', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const lines = (): string[] => stdout.split('\n').filter((l) => l.startsWith('{'));
  return new Promise((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (c: string) => {
      stdout += c;
      if (lines().length === 1 && lines()[0].includes('"ready"')) {
        resolve({
          async stop() {
            child.stdin.end();
            const code = await exited;
            const line = lines().find((l) => l.includes('"samples"'));
            if (code !== 0 || !line) throw new Error(`Spark peer (live) exited with ${code}: ${tailLines(`${stdout}\n${stderr}`, 30)}`);
            return JSON.parse(line) as { samples: Array<[number, number]>; batches: number };
          },
        });
      }
    });
    exited.then(
      (code) => reject(new Error(`Spark peer (live) exited with ${code} before it was ready: ${tailLines(`${stdout}\n${stderr}`, 30)}`)),
      reject,
    );
  });
}

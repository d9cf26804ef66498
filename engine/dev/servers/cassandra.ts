/**
 * A real single-node Apache Cassandra 5.0 for tests: CassandraDaemon run from
 * the cached Maven Central jars (cassandra-install.ts) on Java 17, on free
 * loopback ports, with a generated cassandra.yaml and a fresh data directory.
 *
 *   const c = await startCassandra();        // c.contactPoint = '127.0.0.1:<port>'
 *   await c.stop({ keepDataDir: true });     // graceful (SIGTERM), e.g. for an outage test
 *   const again = await startCassandra({ dataDir: c.dataDir, ports: c.ports });
 *   await again.stop();                      // removes the data directory
 *
 * Like the Kafka broker, a node is tied to this process: an exit hook kills
 * it if the process ends without stop().
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import cassandra from 'cassandra-driver';
import { ensureDir } from './cache.ts';
import { cassandraJvmArgs, renderCassandraYaml } from './cassandra-config.ts';
import { CASSANDRA_VERSION, installCassandra } from './cassandra-install.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { tailFile, terminate } from './process.ts';
import { javaBinary } from './prerequisites.ts';
import { releaseAtExit, spawnServer, waitUntilReady, type ReadyResult, type ServerChild } from './server-child.ts';

export interface CassandraPorts {
  native: number;
  storage: number;
  jmx: number;
}

export interface StartCassandraOptions {
  /** Reuse a data directory (a restart after stop({ keepDataDir: true })); default a fresh temp dir. */
  dataDir?: string;
  /** Exact ports (a restart must keep them); default: 9042 if free, else ephemeral ones. */
  ports?: CassandraPorts;
  /** Heap in MB. Default 1024: enough for the tests' small tables, small enough for a 2-core CI box. */
  heapMb?: number;
  readyTimeoutMs?: number;
  cacheDir?: string;
  log?: (message: string) => void;
}

export interface CassandraTimings {
  /** True when the jars were downloaded in this start (cold). */
  downloaded: boolean;
  installMs: number;
  /** From spawning the JVM to the first answered CQL query. */
  startMs: number;
  totalMs: number;
}

export interface CassandraNode {
  /** `127.0.0.1:<native port>`, for cassandra-driver's contactPoints. */
  contactPoint: string;
  host: string;
  ports: CassandraPorts;
  dataDir: string;
  pid: number;
  version: string;
  timings: CassandraTimings;
  /** SIGTERM (the daemon drains and flushes), SIGKILL after 60 s. Removes the data dir unless kept. */
  stop(options?: { keepDataDir?: boolean }): Promise<void>;
}

const defaultLog = (message: string): void => void process.stderr.write(`[cassandra] ${message}\n`);

export async function startCassandra(options: StartCassandraOptions = {}): Promise<CassandraNode> {
  const started = Date.now();
  const log = options.log ?? defaultLog;
  const install = await installCassandra({ cacheDir: options.cacheDir, log });
  const dataDir = options.dataDir ?? (await mkdtemp(join(await ensureDir(join(tmpdir(), 'sluice-cassandra')), 'run-')));
  const ports = options.ports ?? (await freePorts());
  const logDir = await ensureDir(join(dataDir, 'logs'));
  await mkdir(join(dataDir, 'data'), { recursive: true });
  const configFile = join(dataDir, 'cassandra.yaml');
  await writeFile(configFile, renderCassandraYaml({ host: LOOPBACK, nativePort: ports.native, storagePort: ports.storage, dataDir }));

  const outFile = join(logDir, 'stdout.log');
  const spawnedAt = Date.now();
  const args = cassandraJvmArgs({
    heapMb: options.heapMb ?? 1024,
    configFile,
    logbackConfig: install.logbackConfig,
    logDir,
    dataDir,
    jmxPort: ports.jmx,
    classpath: install.classpath,
  });
  const server = await spawnServer(javaBinary(), args, { logFile: outFile, cwd: dataDir });
  const { pid } = server;

  const contactPoint = `${LOOPBACK}:${ports.native}`;
  const timeoutMs = options.readyTimeoutMs ?? 180_000;
  const ready = await waitForCql(server, contactPoint, timeoutMs);
  if (!ready.ok) {
    if (!ready.exited) await terminate(pid, 5_000);
    releaseAtExit(pid);
    const tail = [await tailFile(join(logDir, 'system.log'), 30), await tailFile(outFile, 30)].filter(Boolean).join('\n');
    throw new Error(
      `Cassandra ${CASSANDRA_VERSION} at ${contactPoint} (pid ${pid}) ${ready.exited ? `exited during startup (${ready.exited})` : `did not answer CQL within ${timeoutMs / 1000}s (${ready.reason ?? '?'})`}. ` +
        `Data directory kept: ${dataDir}\nLast log lines:\n${tail || '(none)'}`,
    );
  }
  const startMs = Date.now() - spawnedAt;
  const timings: CassandraTimings = { downloaded: install.downloaded, installMs: install.ms, startMs, totalMs: Date.now() - started };
  log(
    `Cassandra ${ready.version ?? CASSANDRA_VERSION} ready at ${contactPoint} (pid ${pid}) in ${(timings.totalMs / 1000).toFixed(1)}s ` +
      `[${install.downloaded ? 'cold' : 'warm'}: install ${(install.ms / 1000).toFixed(1)}s, start ${(startMs / 1000).toFixed(1)}s${options.dataDir ? ', existing data' : ''}]`,
  );
  return {
    contactPoint,
    host: LOOPBACK,
    ports,
    dataDir,
    pid,
    version: ready.version ?? CASSANDRA_VERSION,
    timings,
    stop: async (o = {}) => {
      await terminate(pid, 60_000);
      releaseAtExit(pid);
      if (!o.keepDataDir && !process.env.SLUICE_KEEP_CASSANDRA_DATA) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

async function freePorts(): Promise<CassandraPorts> {
  const native = await pickPort(9042);
  const storage = await pickPort(undefined, new Set([native]));
  const jmx = await pickPort(undefined, new Set([native, storage]));
  return { native, storage, jmx };
}

/**
 * Ready means a CQL query answers, not that the port is open: Cassandra
 * binds the native port only at the end of start-up, but the first queries
 * can still fail while the system keyspaces settle.
 */
async function waitForCql(server: ServerChild, contactPoint: string, timeoutMs: number): Promise<ReadyResult & { version?: string }> {
  let version: string | undefined;
  const ready = await waitUntilReady(
    server,
    async () => {
      const client = new cassandra.Client({
        contactPoints: [contactPoint],
        localDataCenter: 'datacenter1',
        socketOptions: { connectTimeout: 2_000, readTimeout: 5_000 },
      });
      try {
        await client.connect();
        const rs = await client.execute('SELECT release_version FROM system.local');
        version = String(rs.first()?.get('release_version') ?? '') || undefined;
        return undefined;
      } catch (err) {
        return (err as Error).message;
      } finally {
        await client.shutdown().catch(() => {});
      }
    },
    { timeoutMs, intervalMs: 500 },
  );
  return { ...ready, version };
}

/**
 * A real Apache Kafka broker for tests and for people: single node, KRaft
 * (broker + controller in one JVM), on 127.0.0.1, with a freshly formatted
 * data directory on every start.
 *
 *   startKafka()   install jars if needed, format, start, wait for metadata
 *   stopKafka()    stop what this process started, else the CLI-started one
 *   kafkaStatus()  is it running, and does it answer?
 *
 * A broker started with `detached: true` (the CLI does this) outlives the
 * starting process; its pid and address go to a state file in the cache dir
 * so a later `stop`/`status` can find it. Otherwise the broker is tied to this
 * process: it is killed when the process exits even if nobody calls stop().
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureDir } from './cache.ts';
import { installKafka, KAFKA_VERSION, type KafkaInstall } from './kafka-install.ts';
import { randomClusterId, renderServerProperties } from './kafka-config.ts';
import { probeBroker, waitForBroker } from './kafka-probe.ts';
import {
  defaultRunRoot,
  isOurBroker,
  readState,
  removeStateFileIfFor,
  sweepStaleRuns,
  writeRunOwner,
  writeState,
  type KafkaState,
} from './kafka-runs.ts';
import { LOOPBACK, pickPort } from './ports.ts';
import { javaBinary } from './prerequisites.ts';
import { runChecked, tailFile, terminate } from './process.ts';
import { releaseAtExit, spawnServer } from './server-child.ts';

export { stateFilePath, type KafkaState } from './kafka-runs.ts';

export interface StartKafkaOptions {
  /** Preferred client port; another free one is used when it is taken. Default 9092. */
  port?: number;
  /** Preferred controller port; same fallback. Default 9093. */
  controllerPort?: number;
  cacheDir?: string;
  /** Parent of the per-run data directories. Default `$TMPDIR/sluice-kafka`. */
  runRoot?: string;
  /** Keep the broker running after this process exits and record it in the state file. */
  detached?: boolean;
  /** How long to wait for the first successful metadata request. Default 120s. */
  readyTimeoutMs?: number;
  /** Leave the data directory behind on stop (for post-mortems). */
  keepDataDir?: boolean;
  /** Progress messages; default prints `[kafka] ...` to stderr. */
  log?: (message: string) => void;
}

export interface KafkaTimings {
  /** True when the jars were downloaded in this start (a cold start). */
  downloaded: boolean;
  installMs: number;
  formatMs: number;
  startMs: number;
  totalMs: number;
}

export interface KafkaBroker {
  /** Bootstrap address for clients, e.g. `127.0.0.1:9092`. */
  brokers: string;
  dataDir: string;
  pid: number;
  port: number;
  controllerPort: number;
  timings: KafkaTimings;
  stop(): Promise<void>;
}

export interface KafkaStatus {
  /** Where the broker was found: started by this process, named by the state file, or none. */
  source: 'this-process' | 'state-file' | 'none';
  running: boolean;
  /** Answered a metadata request just now. */
  reachable: boolean;
  reason?: string;
  state?: KafkaState;
}

const STOP_GRACE_MS = 30_000;
const START_ATTEMPTS = 3;

const defaultLog = (message: string): void => void process.stderr.write(`[kafka] ${message}\n`);

/** Brokers started by this process and not stopped yet, by pid. */
const owned = new Map<number, { broker: KafkaBroker; state: KafkaState }>();
export async function startKafka(options: StartKafkaOptions = {}): Promise<KafkaBroker> {
  const started = Date.now();
  const log = options.log ?? defaultLog;
  const install = await installKafka({ cacheDir: options.cacheDir, log });
  const runRoot = await ensureDir(options.runRoot ?? defaultRunRoot());
  await sweepStaleRuns(runRoot);

  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    try {
      const broker = await startOnce(install, runRoot, options, started, log);
      const { timings } = broker;
      const kind = timings.downloaded ? 'cold' : 'warm';
      log(
        `Kafka ${KAFKA_VERSION} ready at ${broker.brokers} (pid ${broker.pid}) in ${secs(timings.totalMs)} ` +
          `[${kind}: install ${secs(timings.installMs)}, format ${secs(timings.formatMs)}, start ${secs(timings.startMs)}]`,
      );
      return broker;
    } catch (error) {
      lastError = error;
      // Another process can grab a port between our check and the JVM binding
      // it; that is worth another try with fresh ports, nothing else is.
      if (!(error instanceof PortRaceError) || attempt === START_ATTEMPTS) break;
      log(`port was taken while starting, retrying with other ports (attempt ${attempt + 1})`);
    }
  }
  throw lastError;
}

class PortRaceError extends Error {}

async function startOnce(
  install: KafkaInstall,
  runRoot: string,
  options: StartKafkaOptions,
  started: number,
  log: (message: string) => void,
): Promise<KafkaBroker> {
  const port = await pickPort(options.port ?? 9092);
  const controllerPort = await pickPort(options.controllerPort ?? 9093, new Set([port]));
  if (options.port === undefined && port !== 9092) log(`port 9092 is taken, using ${port}`);
  const brokers = `${LOOPBACK}:${port}`;

  const dataDir = await mkdtemp(join(runRoot, 'run-'));
  const logsDir = await ensureDir(join(dataDir, 'logs'));
  const propertiesFile = join(dataDir, 'server.properties');
  await writeFile(
    propertiesFile,
    renderServerProperties({ host: LOOPBACK, port, controllerPort, logDir: join(dataDir, 'kraft') }),
  );
  const jvmLogging = [`-Dlog4j.configuration=file:${install.log4jConfig}`, `-Dkafka.logs.dir=${logsDir}`];

  const formatStarted = Date.now();
  // A short-lived tool: the C1-only JIT and serial GC make the JVM start faster.
  await runChecked(
    javaBinary(),
    [
      '-Xmx256m',
      '-XX:TieredStopAtLevel=1',
      '-XX:+UseSerialGC',
      ...jvmLogging,
      '-cp',
      install.classpath,
      'kafka.tools.StorageTool',
      'format',
      '--cluster-id',
      randomClusterId(),
      '--config',
      propertiesFile,
    ],
    { cwd: dataDir, timeoutMs: 120_000 },
  );
  const formatMs = Date.now() - formatStarted;

  const spawnStarted = Date.now();
  const outFile = join(logsDir, 'stdout.log');
  const detached = options.detached === true;
  // Detached: own process group, so the terminal's Ctrl-C or the CLI's exit
  // does not reach it, and no exit hook. Attached (tests): Ctrl-C stops it
  // with us, and so does our exit.
  const server = await spawnServer(
    javaBinary(),
    ['-Xmx1g', '-Xms256m', '-Djava.awt.headless=true', ...jvmLogging, '-cp', install.classpath, 'kafka.Kafka', propertiesFile],
    { logFile: outFile, cwd: dataDir, detached },
  );
  const { pid } = server;
  // Recorded before waiting, so `kafka stop` finds the broker even if the
  // starting CLI is interrupted while the JVM boots.
  if (detached) await writeState(stateOf(pid, port, controllerPort, dataDir), options.cacheDir);
  await writeRunOwner(dataDir, pid);

  const logFiles = [join(logsDir, 'server.log'), outFile];
  const readyTimeoutMs = options.readyTimeoutMs ?? 120_000;
  const ready = await waitForBroker(brokers, {
    timeoutMs: readyTimeoutMs,
    abort: () => {
      const exit = server.exited();
      return exit ? `the broker process exited (${exit})` : undefined;
    },
  });
  if (!ready.ok) {
    const exit = server.exited();
    const exitedEarly = exit !== undefined;
    if (!exitedEarly) await terminate(pid, 5_000);
    releaseAtExit(pid);
    if (detached) await removeStateFileIfFor(pid, options.cacheDir);
    const tail = await logTail(logFiles);
    if (/BindException|Address already in use/.test(tail)) {
      await rm(dataDir, { recursive: true, force: true });
      throw new PortRaceError(`port ${port} or ${controllerPort} was taken before Kafka could bind it`);
    }
    // Without an owner file the sweep leaves the directory alone for an hour.
    await rm(join(dataDir, 'owner.json'), { force: true });
    const what = exitedEarly
      ? `exited during startup (${exit})`
      : `did not answer a metadata request within ${secs(readyTimeoutMs)} (last attempt: ${ready.reason ?? '?'}); stopped it`;
    throw new Error(
      `Kafka ${KAFKA_VERSION} at ${brokers} (pid ${pid}) ${what}. ` +
        `Data directory kept for inspection: ${dataDir}\nLast lines of the broker logs:\n${tail}`,
    );
  }
  const startMs = Date.now() - spawnStarted;
  const state = stateOf(pid, port, controllerPort, dataDir);
  if (detached) await writeState(state, options.cacheDir);

  const broker: KafkaBroker = {
    brokers,
    dataDir,
    pid,
    port,
    controllerPort,
    timings: {
      downloaded: install.downloaded,
      installMs: install.ms,
      formatMs,
      startMs,
      totalMs: Date.now() - started,
    },
    stop: async () => {
      owned.delete(pid);
      await stopBroker(state, { keepDataDir: options.keepDataDir, log });
      releaseAtExit(pid);
      if (detached) await removeStateFileIfFor(pid, options.cacheDir);
    },
  };
  owned.set(pid, { broker, state });
  return broker;
}

export interface StopResult {
  /** The brokers handled; `wasRunning` is false for a state file whose process had already died. */
  stopped: Array<KafkaState & { wasRunning: boolean }>;
}

/**
 * Stops every broker this process started; when it started none, stops the
 * one recorded in the state file (the CLI's `stop`).
 */
export async function stopKafka(options: { cacheDir?: string; log?: (message: string) => void } = {}): Promise<StopResult> {
  const log = options.log ?? defaultLog;
  if (owned.size > 0) {
    const entries = [...owned.values()];
    for (const entry of entries) await entry.broker.stop();
    return { stopped: entries.map((entry) => ({ ...entry.state, wasRunning: true })) };
  }
  const state = await readState(options.cacheDir);
  if (!state) return { stopped: [] };
  const wasRunning = await stopBroker(state, { log });
  await removeStateFileIfFor(state.pid, options.cacheDir);
  return { stopped: [{ ...state, wasRunning }] };
}

export async function kafkaStatus(options: { cacheDir?: string } = {}): Promise<KafkaStatus> {
  const mine = owned.values().next().value;
  const source: KafkaStatus['source'] = mine ? 'this-process' : 'state-file';
  const state = mine ? mine.state : await readState(options.cacheDir);
  if (!state) return { source: 'none', running: false, reachable: false, reason: 'no broker started' };
  if (!(await isOurBroker(state))) {
    return { source, running: false, reachable: false, reason: `process ${state.pid} is not running`, state };
  }
  const probe = await probeBroker(state.brokers);
  return { source, running: true, reachable: probe.ok, reason: probe.reason, state };
}

/** Stops the broker if it still runs and removes its data; true if it was running. */
async function stopBroker(
  state: KafkaState,
  options: { keepDataDir?: boolean; log: (message: string) => void },
): Promise<boolean> {
  const wasRunning = await isOurBroker(state);
  if (wasRunning) {
    const result = await terminate(state.pid, STOP_GRACE_MS);
    if (result.how === 'kill') {
      options.log(`broker ${state.pid} ignored SIGTERM for ${secs(STOP_GRACE_MS)}; killed it`);
    }
  }
  if (!options.keepDataDir && !process.env.SLUICE_KEEP_KAFKA_DATA) {
    await rm(state.dataDir, { recursive: true, force: true });
  }
  return wasRunning;
}

async function logTail(files: string[]): Promise<string> {
  const parts: string[] = [];
  for (const file of files) {
    const tail = await tailFile(file, 30);
    if (tail) parts.push(`--- ${file}\n${tail}`);
  }
  return parts.length > 0 ? parts.join('\n') : '(the broker wrote no log output)';
}

function stateOf(pid: number, port: number, controllerPort: number, dataDir: string): KafkaState {
  const brokers = `${LOOPBACK}:${port}`;
  return { version: KAFKA_VERSION, pid, port, controllerPort, brokers, dataDir, startedAt: new Date().toISOString() };
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

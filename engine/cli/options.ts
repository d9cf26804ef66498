/**
 * Runner options from, in rising precedence: defaults, a JSON config file
 * (--config), environment variables (SLUICE_*), and the command line.
 *
 *   SLUICE_WORKERS, SLUICE_BROKERS (comma separated), SLUICE_STATE_DIR,
 *   SLUICE_OUTPUT_DIR, SLUICE_CHECKPOINT_INTERVAL_MS, SLUICE_GROUP_ID,
 *   SLUICE_SESSION_TIMEOUT_MS, SLUICE_CONNECT_TIMEOUT_MS, SLUICE_VERBOSE=1, SLUICE_OFFSET_RESET,
 *   SLUICE_METRICS_PORT, SLUICE_METRICS_HOST,
 *   SLUICE_SINK_RETRY_FOR_MS, SLUICE_SINK_BACKOFF_MAX_MS, SLUICE_STALL_AFTER_MS,
 *   SLUICE_SET ("key=value,key=value": job settings)
 *
 * The config file holds the same options in camelCase plus "settings":
 *   { "workers": 2, "brokers": ["127.0.0.1:9092"], "settings": { "topic": "events" } }
 *
 * An env file (--env-from, SLUICE_ENV_FILE, else `.sluice/dev.env` when it
 * exists: `sluice dev up` writes it) supplies SLUICE_* variables the real
 * environment does not set: `KEY=value` lines, `export ` and quotes allowed.
 * SLUICE_PROMETHEUS_TARGETS_DIR (from `sluice dev up`) makes a run register
 * its metrics address there for Prometheus' file discovery; SLUICE_DEV_SET
 * holds settings applied only to jobs that declare them (server addresses).
 */
import { existsSync, readFileSync } from 'node:fs';
import { ErrorCodes, SluiceError } from '../errors.ts';
import { DEFAULT_ENV_FILE, parseEnvFile } from '../dev/env-file.ts';

export interface RunOptions {
  workers?: number;
  brokers: string[];
  stateDir?: string;
  outputDir?: string;
  checkpointIntervalMs?: number;
  groupId?: string;
  sessionTimeoutMs?: number;
  cacheMaxEntries?: number;
  /** Old-generation heap limit of each worker thread, MiB (JobRunnerOptions.workerHeapMb). */
  workerHeapMb?: number;
  /** Epoch and delivery-backlog bounds per partition, records (JobRunnerOptions; checkpoint-schedule.ts). */
  maxEpochRecords?: number;
  maxUndeliveredRecords?: number;
  maxInflightBytes?: number;
  /** Drift allowed between a partition's Kafka inputs, ms of record time; 0 off (JobRunnerOptions.inputAlignmentMs). */
  inputAlignmentMs?: number;
  shutdownTimeoutMs: number;
  /** Bound on reaching Kafka and the sinks' servers at start (default 15 000). */
  connectTimeoutMs: number;
  /** Stacks and every kafkajs detail in the log. */
  verbose: boolean;
  /** A checkpointed Kafka offset the topic no longer holds: fail (default), or skip to earliest/latest. */
  offsetReset: 'fail' | 'earliest' | 'latest';
  metricsPort?: number;
  metricsHost?: string;
  /** The delivery policy of every sink (engine/runtime/delivery-policy.ts): retry budget, backoff cap, stall time. */
  delivery: { retryForMs?: number; backoff?: { maxMs: number }; stallAfterMs?: number };
  progress: boolean;
  /** `--until end`: read every Kafka input to its end offsets at start, close every window, exit 0. */
  untilEnd: boolean;
  set: Record<string, string>;
  /** Directory of Prometheus file_sd target files (`sluice dev`): the run adds itself there while it serves. */
  prometheusTargetsDir?: string;
  /** The env file read, if any. */
  envFile?: string;
  /**
   * Settings for whichever job declares them (SLUICE_DEV_SET, written by
   * `sluice dev up`: server addresses such as `postgres=...`), below every
   * other source; a job without such a setting ignores it.
   */
  devSet: Record<string, string>;
}


export interface RawCli {
  workers?: string;
  brokers?: string;
  'state-dir'?: string;
  'output-dir'?: string;
  'checkpoint-interval'?: string;
  'group-id'?: string;
  'session-timeout'?: string;
  'cache-max-entries'?: string;
  'worker-heap-mb'?: string;
  'max-epoch-records'?: string;
  'max-undelivered-records'?: string;
  'max-inflight-bytes'?: string;
  'input-alignment'?: string;
  'shutdown-timeout'?: string;
  'connect-timeout'?: string;
  'offset-reset'?: string;
  /** Only on the command line: adopting a state directory is a one-off decision, not a setting. */
  'adopt-state'?: boolean;
  verbose?: boolean;
  'metrics-port'?: string;
  'metrics-host'?: string;
  'sink-retry-for'?: string;
  'sink-backoff-max'?: string;
  'stall-after'?: string;
  config?: string;
  progress?: boolean;
  'no-progress'?: boolean;
  'env-from'?: string;
  'no-http'?: boolean;
  until?: string;
  set?: string[];
}

function int(name: string, v: string | number | undefined, min = 1): number | undefined {
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new SluiceError(ErrorCodes.CONFIG, `${name} must be an integer >= ${min}, got "${v}"`);
  return n;
}

function port(name: string, v: string | number | undefined): number | undefined {
  const n = int(name, v, 0);
  if (n !== undefined && n > 65535) throw new SluiceError(ErrorCodes.CONFIG, `${name} must be a TCP port (0-65535), got "${v}"`);
  return n;
}

function offsetReset(v: string | undefined): 'fail' | 'earliest' | 'latest' {
  if (v === undefined || v === '') return 'fail';
  if (v === 'fail' || v === 'earliest' || v === 'latest') return v;
  throw new SluiceError(ErrorCodes.CONFIG, `--offset-reset must be one of fail, earliest, latest; got "${v}"`);
}

function pairs(list: string[], where: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SluiceError(ErrorCodes.CONFIG, `${where}: expected key=value, got "${item}"`);
    out[item.slice(0, eq).trim()] = item.slice(eq + 1);
  }
  return out;
}

/** `--until end`: a bounded run (see JobRunnerOptions.untilEnd). "end" is the only bound so far. */
function until(v: string | undefined): boolean {
  if (v === undefined) return false;
  if (v !== 'end') throw new SluiceError(ErrorCodes.CONFIG, `--until takes "end" (read every Kafka input to the end offsets taken at start, close every window, exit), got "${v}"`);
  return true;
}

/** The keys a --config file may hold; any other is a typo, rejected rather than ignored. */
export const CONFIG_KEYS = [
  'workers', 'brokers', 'stateDir', 'outputDir', 'checkpointIntervalMs', 'groupId', 'sessionTimeoutMs',
  'cacheMaxEntries', 'workerHeapMb', 'maxEpochRecords', 'maxUndeliveredRecords', 'maxInflightBytes', 'inputAlignmentMs', 'shutdownTimeoutMs', 'connectTimeoutMs', 'offsetReset', 'metricsPort', 'metricsHost', 'until', 'sinkRetryForMs', 'sinkBackoffMaxMs', 'stallAfterMs', 'settings',
] as const;

export function resolveRunOptions(cli: RawCli, realEnv: NodeJS.ProcessEnv = process.env, isTty = Boolean(process.stderr.isTTY)): RunOptions {
  const envFile = cli['env-from'] ?? realEnv.SLUICE_ENV_FILE ?? (realEnv === process.env && existsSync(DEFAULT_ENV_FILE) ? DEFAULT_ENV_FILE : undefined);
  let fromFile: Record<string, string> = {};
  if (envFile) {
    try {
      fromFile = parseEnvFile(readFileSync(envFile, 'utf8'));
    } catch (err) {
      throw new SluiceError(ErrorCodes.CONFIG, `cannot read env file ${envFile}: ${(err as Error).message}`, { cause: err });
    }
  }
  const env: NodeJS.ProcessEnv = { ...fromFile, ...realEnv };
  let file: Record<string, unknown> = {};
  if (cli.config) {
    try {
      file = JSON.parse(readFileSync(cli.config, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new SluiceError(ErrorCodes.CONFIG, `cannot read config file ${cli.config}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof file !== 'object' || file === null || Array.isArray(file)) throw new SluiceError(ErrorCodes.CONFIG, `config file ${cli.config} must hold a JSON object`);
    const unknown = Object.keys(file).find((k) => !(CONFIG_KEYS as readonly string[]).includes(k));
    if (unknown !== undefined) {
      throw new SluiceError(ErrorCodes.CONFIG, `unknown key "${unknown}" in ${cli.config}; known keys: ${CONFIG_KEYS.join(', ')} (job settings go under "settings")`);
    }
  }
  const fileSettings = (file.settings ?? {}) as Record<string, unknown>;
  const set: Record<string, string> = {
    ...Object.fromEntries(Object.entries(fileSettings).map(([k, v]) => [k, String(v)])),
    ...(env.SLUICE_SET ? pairs(env.SLUICE_SET.split(','), 'SLUICE_SET') : {}),
    ...pairs(cli.set ?? [], '--set'),
  };
  const brokersRaw = cli.brokers ?? env.SLUICE_BROKERS ?? (Array.isArray(file.brokers) ? (file.brokers as string[]).join(',') : (file.brokers as string | undefined));
  // The first delay stays 200 ms (DELIVERY_DEFAULTS) unless the cap is below it.
  const backoffMax = int('--sink-backoff-max', cli['sink-backoff-max'] ?? env.SLUICE_SINK_BACKOFF_MAX_MS ?? (file.sinkBackoffMaxMs as number | undefined), 0);
  return {
    workers: int('--workers', cli.workers ?? env.SLUICE_WORKERS ?? (file.workers as number | undefined)),
    brokers: brokersRaw ? brokersRaw.split(',').map((b) => b.trim()).filter(Boolean) : [],
    stateDir: cli['state-dir'] ?? env.SLUICE_STATE_DIR ?? (file.stateDir as string | undefined),
    outputDir: cli['output-dir'] ?? env.SLUICE_OUTPUT_DIR ?? (file.outputDir as string | undefined),
    checkpointIntervalMs: int('--checkpoint-interval', cli['checkpoint-interval'] ?? env.SLUICE_CHECKPOINT_INTERVAL_MS ?? (file.checkpointIntervalMs as number | undefined), 10),
    groupId: cli['group-id'] ?? env.SLUICE_GROUP_ID ?? (file.groupId as string | undefined),
    sessionTimeoutMs: int('--session-timeout', cli['session-timeout'] ?? env.SLUICE_SESSION_TIMEOUT_MS ?? (file.sessionTimeoutMs as number | undefined), 1000),
    cacheMaxEntries: int('--cache-max-entries', cli['cache-max-entries'] ?? (file.cacheMaxEntries as number | undefined)),
    workerHeapMb: int('--worker-heap-mb', cli['worker-heap-mb'] ?? (file.workerHeapMb as number | undefined)),
    maxEpochRecords: int('--max-epoch-records', cli['max-epoch-records'] ?? (file.maxEpochRecords as number | undefined)),
    maxUndeliveredRecords: int('--max-undelivered-records', cli['max-undelivered-records'] ?? (file.maxUndeliveredRecords as number | undefined)),
    maxInflightBytes: int('--max-inflight-bytes', cli['max-inflight-bytes'] ?? (file.maxInflightBytes as number | undefined)),
    inputAlignmentMs: int('--input-alignment', cli['input-alignment'] ?? (file.inputAlignmentMs as number | undefined), 0),
    shutdownTimeoutMs: int('--shutdown-timeout', cli['shutdown-timeout'] ?? (file.shutdownTimeoutMs as number | undefined)) ?? 30_000,
    connectTimeoutMs: int('--connect-timeout', cli['connect-timeout'] ?? env.SLUICE_CONNECT_TIMEOUT_MS ?? (file.connectTimeoutMs as number | undefined)) ?? 15_000,
    verbose: cli.verbose === true || env.SLUICE_VERBOSE === '1',
    offsetReset: offsetReset(cli['offset-reset'] ?? env.SLUICE_OFFSET_RESET ?? (file.offsetReset as string | undefined)),
    metricsPort: port('--metrics-port', cli['metrics-port'] ?? env.SLUICE_METRICS_PORT ?? (file.metricsPort as number | undefined)),
    metricsHost: cli['metrics-host'] ?? env.SLUICE_METRICS_HOST ?? (file.metricsHost as string | undefined),
    delivery: {
      retryForMs: int('--sink-retry-for', cli['sink-retry-for'] ?? env.SLUICE_SINK_RETRY_FOR_MS ?? (file.sinkRetryForMs as number | undefined), 0),
      backoff: backoffMax === undefined ? undefined : { maxMs: backoffMax },
      stallAfterMs: int('--stall-after', cli['stall-after'] ?? env.SLUICE_STALL_AFTER_MS ?? (file.stallAfterMs as number | undefined), 0),
    },
    progress: cli['no-progress'] ? false : (cli.progress ?? isTty),
    untilEnd: until(cli.until ?? (file.until as string | undefined)),
    set,
    prometheusTargetsDir: env.SLUICE_PROMETHEUS_TARGETS_DIR || undefined,
    devSet: env.SLUICE_DEV_SET ? pairs(env.SLUICE_DEV_SET.split(','), 'SLUICE_DEV_SET') : {},
    envFile,
  };
}

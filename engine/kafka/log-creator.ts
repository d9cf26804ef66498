/**
 * kafkajs logs JSON lines at INFO by default through console.*, which floods a
 * stream engine's output with "Pausing fetching" on every backpressure signal.
 * We route it through this creator: WARN and above by default, one line per
 * entry on stderr, `[kafkajs <namespace>] LEVEL message {extra}`.
 *
 * Stacks only with SLUICE_VERBOSE=1 (`--verbose`); a line repeated within
 * 30 s is counted, and the count is printed with its next appearance.
 *
 * Line format (written by formatLogLine):
 *   `[kafkajs Consumer] WARN The group is rebalancing, re-joining {"groupId":"g"}`
 * `extra` is the entry's fields other than timestamp/logger/message, as JSON;
 * omitted when empty. Fields that JSON.stringify cannot encode are dropped.
 *
 * Some kafkajs entries are demoted to DEBUG because they are not news:
 * - every error response, logged by the connection before kafkajs retries it
 *   or rejects the caller's promise (which is where we report it);
 * - entries that carry `retryCount` (attempts kafkajs is about to retry),
 *   except the consumer's restart line;
 * - the consumer's "Crash:" line: a crash kafkajs restarts from is announced
 *   by its "Restarting the consumer in N ms" line, and one it does not
 *   restart from fails the job with its own line (consumer.ts), which must
 *   be the only one;
 * - "The group is rebalancing, re-joining": routine, and the consumer reports
 *   it to the engine as a 'rebalancing' event;
 * - the idempotent producer's note that finite retries may break EoS: we keep
 *   them finite on purpose (a send must fail eventually) and document that a
 *   producer must be recreated after a failed send (producer.ts).
 */
import './kafkajs-fast-decode.ts'; // before kafkajs loads (see there)
import './kafkajs-linear-grouping.ts'; // before kafkajs loads (see there)
import { logLevel as Level, type LogEntry, type logCreator } from 'kafkajs';
import type { KafkaLogLevel } from './types.ts';

const LEVELS: Record<KafkaLogLevel, number> = {
  nothing: Level.NOTHING,
  error: Level.ERROR,
  warn: Level.WARN,
  info: Level.INFO,
  debug: Level.DEBUG,
};

/** Resolves the effective level: env SLUICE_KAFKA_LOG_LEVEL wins so an operator can turn on debug without a code change. */
export function resolveLogLevel(configured: KafkaLogLevel | undefined, env = process.env): number {
  const fromEnv = env.SLUICE_KAFKA_LOG_LEVEL?.toLowerCase();
  if (fromEnv && fromEnv in LEVELS) return LEVELS[fromEnv as KafkaLogLevel];
  return LEVELS[configured ?? 'warn'];
}

/**
 * Stacks are left out unless SLUICE_VERBOSE=1 (`sluice run --verbose`): a
 * connection error's stack points into kafkajs' socket code and says nothing
 * the message does not.
 */
export function formatLogLine(entry: LogEntry, verbose = process.env.SLUICE_VERBOSE === '1'): string {
  const { timestamp: _t, logger: _l, message, stack, ...rest } = entry.log as LogEntry['log'] & { stack?: unknown };
  const extra: Record<string, unknown> = verbose && stack !== undefined ? { ...rest, stack } : rest;
  const ns = entry.namespace ? ` ${entry.namespace}` : '';
  let tail = '';
  if (Object.keys(extra).length > 0) {
    try {
      tail = ' ' + JSON.stringify(extra, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
    } catch {
      tail = '';
    }
  }
  return `[kafkajs${ns}] ${entry.label} ${String(message)}${tail}`;
}

/**
 * kafkajs filters by the level passed to `new Kafka({ logLevel })` before it
 * calls us; the `min` check here repeats that so the creator is safe with any
 * configuration. `write` is injectable for tests.
 */
export function createLogCreator(min: number, write: (line: string) => void = defaultWrite, now: () => number = Date.now): logCreator {
  // The same line again within REPEAT_MS is counted, not printed: a broker that
  // went away is reported once per client and interval, not once per retry.
  const lastPrinted = new Map<string, { at: number; repeats: number }>();
  return () => (entry: LogEntry) => {
    const level = isExpectedNoise(entry) ? Level.DEBUG : entry.level;
    if (level > min || level === Level.NOTHING) return;
    const key = `${entry.namespace} ${String(entry.log.message)}`;
    const seen = lastPrinted.get(key);
    const t = now();
    if (seen && t - seen.at < REPEAT_MS) {
      seen.repeats++;
      return;
    }
    if (lastPrinted.size > 1000) lastPrinted.clear();
    lastPrinted.set(key, { at: t, repeats: 0 });
    const again = seen && seen.repeats > 0 ? ` (and ${seen.repeats} more like it in the last ${Math.round((t - seen.at) / 1000)} s)` : '';
    write(formatLogLine(entry) + again);
  };
}

const REPEAT_MS = 30_000;

export function isExpectedNoise(entry: LogEntry): boolean {
  const message = String(entry.log.message);
  if (entry.namespace === 'Connection' && message.startsWith('Response ')) return true;
  // The consumer's restart line also carries retryCount and is news; its crash line is not (header).
  if (entry.namespace === 'Consumer' && message.startsWith('Crash: ')) return true;
  if ('retryCount' in entry.log && entry.namespace !== 'Consumer') return true;
  // Every rebalance; the consumer reports it to the engine as a 'rebalancing' event.
  if (entry.namespace === 'Runner' && message.startsWith('The group is rebalancing, re-joining')) return true;
  return message.startsWith('Limiting retries for the idempotent producer');
}

function defaultWrite(line: string): void {
  process.stderr.write(line + '\n');
}

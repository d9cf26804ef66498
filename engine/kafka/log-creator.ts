/**
 * kafkajs logs JSON lines at INFO by default through console.*, which floods a
 * stream engine's output with "Pausing fetching" on every backpressure signal.
 * We route it through this creator: WARN and above by default, one line per
 * entry on stderr, `[kafkajs <namespace>] LEVEL message {extra}`.
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
 *   except the consumer's crash and restart lines;
 * - "The group is rebalancing, re-joining": routine, and the consumer reports
 *   it to the engine as a 'rebalancing' event;
 * - the idempotent producer's note that finite retries may break EoS: we keep
 *   them finite on purpose (a send must fail eventually) and document that a
 *   producer must be recreated after a failed send (producer.ts).
 */
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

export function formatLogLine(entry: LogEntry): string {
  const { timestamp: _t, logger: _l, message, ...extra } = entry.log;
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
export function createLogCreator(min: number, write: (line: string) => void = defaultWrite): logCreator {
  return () => (entry: LogEntry) => {
    const level = isExpectedNoise(entry) ? Level.DEBUG : entry.level;
    if (level > min || level === Level.NOTHING) return;
    write(formatLogLine(entry));
  };
}

export function isExpectedNoise(entry: LogEntry): boolean {
  const message = String(entry.log.message);
  if (entry.namespace === 'Connection' && message.startsWith('Response ')) return true;
  // The consumer's own crash/restart lines also carry retryCount and are news.
  if ('retryCount' in entry.log && entry.namespace !== 'Consumer') return true;
  // Every rebalance; the consumer reports it to the engine as a 'rebalancing' event.
  if (entry.namespace === 'Runner' && message.startsWith('The group is rebalancing, re-joining')) return true;
  return message.startsWith('Limiting retries for the idempotent producer');
}

function defaultWrite(line: string): void {
  process.stderr.write(line + '\n');
}

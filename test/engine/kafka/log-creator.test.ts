import { logLevel, type LogEntry } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createLogCreator, formatLogLine, resolveLogLevel } from '../../../engine/kafka/log-creator.ts';

function entry(level: number, namespace: string, message: string, extra: Record<string, unknown> = {}): LogEntry {
  const label = Object.entries(logLevel).find(([, v]) => v === level)?.[0] ?? 'INFO';
  return { level, namespace, label, log: { timestamp: 'now', logger: 'kafkajs', message, ...extra } } as LogEntry;
}

describe('kafkajs log creator', () => {
  it('leaves stacks out unless verbose (issue 16, finding 4)', () => {
    const e = entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1', { broker: '127.0.0.1:1', stack: 'Error: connect ECONNREFUSED\n    at TCPConnectWrap' });
    expect(formatLogLine(e, false)).toBe('[kafkajs Connection] ERROR Connection error: connect ECONNREFUSED 127.0.0.1:1 {"broker":"127.0.0.1:1"}');
    expect(formatLogLine(e, true)).toContain('"stack":"Error: connect ECONNREFUSED');
  });

  it('prints a line repeated within 30 s once, and counts the repeats on its next appearance', () => {
    const lines: string[] = [];
    let now = 0;
    const log = createLogCreator(logLevel.WARN, (l) => lines.push(l), () => now)(logLevel.WARN);
    const down = entry(logLevel.ERROR, 'Connection', 'Connection error: connect ECONNREFUSED 127.0.0.1:1');
    for (let i = 0; i < 9; i++) {
      log(down);
      now += 1_000;
    }
    now = 31_000;
    log(down);
    expect(lines.map((l) => l.replace(/ \{.*\}/, ''))).toEqual([
      '[kafkajs Connection] ERROR Connection error: connect ECONNREFUSED 127.0.0.1:1',
      '[kafkajs Connection] ERROR Connection error: connect ECONNREFUSED 127.0.0.1:1 (and 8 more like it in the last 31 s)',
    ]);
  });

  it('prints WARN and above by default, one line each', () => {
    const lines: string[] = [];
    const log = createLogCreator(resolveLogLevel(undefined, {}), (l) => lines.push(l))(logLevel.WARN);
    log(entry(logLevel.INFO, 'ConsumerGroup', 'Pausing fetching from 1 topics'));
    log(entry(logLevel.WARN, 'ConsumerGroup', 'Consumer group received unsubscribed topics', { groupId: 'g' }));
    log(entry(logLevel.ERROR, 'Consumer', 'Restarting the consumer in 100ms', { retryCount: 3 }));
    // The crash itself is reported by the consumer (restart line above, or the job's failure line).
    log(entry(logLevel.ERROR, 'Consumer', 'Crash: x', { retryCount: 3 }));
    expect(lines).toEqual([
      '[kafkajs ConsumerGroup] WARN Consumer group received unsubscribed topics {"groupId":"g"}',
      '[kafkajs Consumer] ERROR Restarting the consumer in 100ms {"retryCount":3}',
    ]);
  });

  it('demotes error responses, retried attempts and routine rebalances, which reach the caller another way', () => {
    const lines: string[] = [];
    const log = createLogCreator(logLevel.WARN, (l) => lines.push(l))(logLevel.WARN);
    log(entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)', { error: 'x' }));
    log(entry(logLevel.ERROR, 'BrokerPool', 'Failed to connect to seed broker', { retryCount: 1 }));
    log(entry(logLevel.WARN, 'Runner', 'The group is rebalancing, re-joining', { groupId: 'g' }));
    log(entry(logLevel.WARN, 'Producer', 'Limiting retries for the idempotent producer may invalidate EoS guarantees'));
    expect(lines).toEqual([]);
    const debug: string[] = [];
    const verbose = createLogCreator(logLevel.DEBUG, (l) => debug.push(l))(logLevel.DEBUG);
    verbose(entry(logLevel.ERROR, 'Connection', 'Response Metadata(key: 3, version: 6)'));
    expect(debug).toHaveLength(1);
  });

  it('lets SLUICE_KAFKA_LOG_LEVEL override the configured level', () => {
    expect(resolveLogLevel('warn', { SLUICE_KAFKA_LOG_LEVEL: 'DEBUG' })).toBe(logLevel.DEBUG);
    expect(resolveLogLevel('error', {})).toBe(logLevel.ERROR);
    expect(resolveLogLevel('info', { SLUICE_KAFKA_LOG_LEVEL: 'bogus' })).toBe(logLevel.INFO);
    expect(resolveLogLevel('nothing', {})).toBe(logLevel.NOTHING);
  });

  it('formats without extra when there is none, and survives unencodable extras', () => {
    expect(formatLogLine(entry(logLevel.WARN, '', 'plain'))).toBe('[kafkajs] WARN plain');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(formatLogLine(entry(logLevel.WARN, 'X', 'm', { circular, n: 10n }))).toBe('[kafkajs X] WARN m');
    expect(formatLogLine(entry(logLevel.WARN, 'X', 'm', { n: 10n }))).toBe('[kafkajs X] WARN m {"n":"10"}');
  });
});

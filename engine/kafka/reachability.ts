/**
 * Can the Kafka brokers be reached at all? Asked once, before any kafkajs
 * client starts: kafkajs alone retries an unreachable broker for about 25 s,
 * logging every attempt, and then fails with a message that names no way
 * out (issue 16, finding 4). This answers within a bound, in one line, with
 * a hint at the setting that holds the address.
 *
 * A host that does not resolve (ENOTFOUND) fails at once: waiting will not
 * change it. A refused or timed-out connection is tried again until the bound
 * (a broker that is still starting). One broker that accepts a TCP connection
 * is enough; kafkajs does the rest, with its own retries.
 */
import { lookup } from 'node:dns/promises';
import { connect } from 'node:net';
import { ErrorCodes, SluiceError } from '../errors.ts';

export interface ReachabilityOptions {
  /** The bound, ms (default 15 000). */
  timeoutMs?: number;
  /** Where the address is set, for the message, e.g. "--brokers or SLUICE_BROKERS". */
  hint?: string;
}

/** DNS answers that waiting will not change. */
const PERMANENT_DNS = new Set(['ENOTFOUND', 'EAI_NONAME', 'EAI_FAIL', 'ENODATA']);

function split(broker: string): { host: string; port: number } {
  const i = broker.lastIndexOf(':');
  const host = (i > 0 ? broker.slice(0, i) : broker).replace(/^\[|\]$/g, '');
  const port = i > 0 ? Number(broker.slice(i + 1)) : 9092;
  if (!host || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SluiceError(ErrorCodes.CONFIG, `Kafka broker address "${broker}" is not host:port`);
  }
  return { host, port };
}

function tryConnect(host: string, port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(Object.assign(new Error(`connect to ${host}:${port} timed out after ${timeoutMs} ms`), { code: 'ETIMEDOUT' }));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      reject(err);
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Resolves when a broker accepts a connection; otherwise throws one SluiceError (KAFKA) within the bound. */
export async function checkBrokersReachable(brokers: string[], o: ReachabilityOptions = {}): Promise<void> {
  const timeoutMs = o.timeoutMs ?? 15_000;
  const hint = o.hint ? `: its address is set with ${o.hint}` : '';
  const list = brokers.map(split);
  const deadline = Date.now() + timeoutMs;
  const unresolvable = new Map<string, string>();
  let last = '';
  for (;;) {
    for (const { host, port } of list) {
      if (unresolvable.has(host)) continue;
      try {
        await lookup(host);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        last = `${host}: ${code || (err as Error).message}`;
        if (PERMANENT_DNS.has(code)) unresolvable.set(host, `getaddrinfo ${code} ${host}`);
        continue;
      }
      try {
        await tryConnect(host, port, Math.max(100, Math.min(3_000, deadline - Date.now())));
        return;
      } catch (err) {
        last = (err as Error).message;
      }
    }
    if (unresolvable.size === new Set(list.map((b) => b.host)).size) {
      throw new SluiceError(ErrorCodes.KAFKA, `cannot resolve the Kafka broker host${unresolvable.size > 1 ? 's' : ''} ${[...unresolvable.keys()].join(', ')} (${[...unresolvable.values()].join('; ')})${hint}`);
    }
    if (Date.now() >= deadline) {
      const where = o.hint ? ` Its address is set with ${o.hint}.` : '';
      throw new SluiceError(ErrorCodes.KAFKA, `cannot reach Kafka at ${brokers.join(',')} within ${Math.round(timeoutMs / 1000)} s (${last}): is it running?${where}`, { retryable: true });
    }
    await sleep(Math.min(500, Math.max(0, deadline - Date.now())));
  }
}

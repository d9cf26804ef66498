/**
 * A local HTTP server that replays recorded events as a real Server-Sent
 * Events stream, the way Wikimedia's EventStreams serves recentchange:
 *
 *   event: message
 *   id: [{"topic":"eqiad.mediawiki.recentchange","partition":0,"offset":1234}]
 *   data: {...}
 *   <blank line>
 *
 * It honours `Last-Event-ID` (the stream resumes right after that event; an
 * id it never sent is answered with 400, so a client bug cannot hide), and
 * each connection can be scripted to misbehave: drop the TCP connection in
 * the middle of an event, send `:` comments and heartbeats, write every event
 * in small pieces that leave as separate TCP packets (lines and UTF-8
 * characters split across them), use CRLF line ends, send `retry:`, or answer
 * with an HTTP error. Once every event is sent it holds the stream open with
 * heartbeats, or (`noContentAtEnd`) ends it and answers the reconnect, fully
 * caught up, with 204, which per the spec tells the client to stop.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ReplayEvent {
  id: string;
  data: string;
  event?: string;
}

export interface ConnectionPlan {
  /** Answer with this status instead of a stream (e.g. 503). */
  status?: number;
  /** After this many events, write half of the next one and destroy the socket (at the end if fewer are left). */
  dropAfterEvents?: number;
  /** Write events in pieces of this many bytes, each its own TCP packet. */
  splitBytes?: number;
  /** A `:` comment before every event. */
  commentBetween?: boolean;
  /** CRLF line ends instead of LF. */
  crlf?: boolean;
  /** Send `retry: <ms>` first. */
  retryMs?: number;
  /** Pause between events, ms. */
  eventDelayMs?: number;
}

export interface ReplayServerOptions {
  events: readonly ReplayEvent[];
  /** Plans for the 1st, 2nd, ... connection; later ones use `defaultPlan`. */
  plans?: readonly ConnectionPlan[];
  defaultPlan?: ConnectionPlan;
  /** Heartbeat comment interval while idle. Default 1000 ms. */
  heartbeatMs?: number;
  /** End the stream after the last event, and answer the caught-up reconnect with 204 (end of the replay). */
  noContentAtEnd?: boolean;
  /**
   * Hold every stream before the event with this index, sending heartbeats,
   * until `release()`: a test can then act "mid-stream" however slow the
   * machine is, instead of racing the replay's pace.
   */
  holdBeforeEvent?: number;
}

export interface ConnectionLog {
  lastEventId: string | undefined;
  /** Index of the first event served, or -1 when answered with an error or 204. */
  from: number;
  status: number;
  /** Events written completely. */
  sent: number;
  dropped: boolean;
}

export class SseReplayServer {
  private server: http.Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly index = new Map<string, number>();
  readonly connections: ConnectionLog[] = [];
  url = '';
  /** True once a stream waits at `holdBeforeEvent`. */
  holding = false;
  private released = false;
  private readonly waiters: Array<() => void> = [];

  constructor(private readonly o: ReplayServerOptions) {
    o.events.forEach((e, i) => {
      if (this.index.has(e.id)) throw new Error(`replay server: duplicate event id ${e.id}`);
      if (/[\r\n]/.test(e.id)) throw new Error(`replay server: event id with a line break: ${e.id}`);
      this.index.set(e.id, i);
    });
  }

  async start(): Promise<string> {
    const server = http.createServer((req, res) => void this.handle(req, res));
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v2/stream/recentchange`;
    return this.url;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** Lets streams held at `holdBeforeEvent` go on. */
  release(): void {
    this.released = true;
    for (const w of this.waiters.splice(0)) w();
  }

  /** Drops every open stream now (as a network failure would). */
  dropAll(): void {
    for (const s of this.sockets) s.destroy();
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const n = this.connections.length;
    const plan = this.o.plans?.[n] ?? this.o.defaultPlan ?? {};
    const raw = req.headers['last-event-id'];
    const lastEventId = typeof raw === 'string' && raw !== '' ? raw : undefined;
    const log: ConnectionLog = { lastEventId, from: -1, status: 200, sent: 0, dropped: false };
    this.connections.push(log);
    if (plan.status !== undefined) {
      log.status = plan.status;
      res.writeHead(plan.status, { 'content-type': 'text/plain' }).end(`scripted ${plan.status}\n`);
      return;
    }
    let from = 0;
    if (lastEventId !== undefined) {
      const at = this.index.get(lastEventId);
      if (at === undefined) {
        log.status = 400;
        res.writeHead(400, { 'content-type': 'text/plain' }).end(`unknown Last-Event-ID ${lastEventId}\n`);
        return;
      }
      from = at + 1;
    }
    if (from >= this.o.events.length && this.o.noContentAtEnd) {
      log.status = 204;
      res.writeHead(204).end();
      return;
    }
    log.from = from;
    const socket = req.socket;
    socket.setNoDelay(true);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const nl = plan.crlf ? '\r\n' : '\n';
    let closed = false;
    res.on('close', () => (closed = true));
    const write = async (text: string): Promise<void> => {
      const bytes = Buffer.from(text, 'utf8');
      const step = plan.splitBytes ?? bytes.length;
      for (let at = 0; at < bytes.length && !closed; at += step) {
        res.write(bytes.subarray(at, at + step));
        // A macrotask between writes: with Nagle off, each piece leaves as its own packet.
        if (step < bytes.length) await sleep(0);
      }
    };
    await write(`:ok${nl}${nl}`);
    if (plan.retryMs !== undefined) await write(`retry: ${plan.retryMs}${nl}${nl}`);
    for (let i = from; i < this.o.events.length && !closed; i++) {
      if (i === this.o.holdBeforeEvent && !this.released) {
        this.holding = true;
        const go = new Promise<void>((r) => this.waiters.push(r));
        const every = this.o.heartbeatMs ?? 1000;
        while (!this.released && !closed) {
          await Promise.race([go, sleep(every)]);
          if (!this.released && !closed) res.write(`:heartbeat${nl}`);
        }
        if (closed) break;
      }
      const e = this.o.events[i];
      const text = `event: ${e.event ?? 'message'}${nl}id: ${e.id}${nl}${e.data.split('\n').map((l) => `data: ${l}${nl}`).join('')}${nl}`;
      if (plan.dropAfterEvents !== undefined && log.sent >= plan.dropAfterEvents) {
        // Half an event, then a dead connection: the client must discard the fragment.
        await write(text.slice(0, Math.max(1, Math.floor(text.length / 2))));
        log.dropped = true;
        // A moment for the complete events to reach the client before the reset
        // (a reset can discard what the client has received but not yet read).
        await sleep(30);
        socket.destroy();
        return;
      }
      if (plan.commentBetween) await write(`: heartbeat ${i}${nl}`);
      await write(text);
      if (!closed) log.sent++;
      if (plan.eventDelayMs) await sleep(plan.eventDelayMs);
    }
    if (plan.dropAfterEvents !== undefined && !closed) {
      // Asked to drop after more events than were left: drop at the end.
      log.dropped = true;
      await sleep(30);
      socket.destroy();
      return;
    }
    if (this.o.noContentAtEnd && !closed) {
      // End of the replay: close the stream; the client's reconnect gets 204.
      res.end();
      return;
    }
    // Caught up: keep the stream alive with heartbeats until the client or the test closes it.
    const every = this.o.heartbeatMs ?? 1000;
    while (!closed) {
      await sleep(every);
      if (!closed) res.write(`:heartbeat${nl}`);
    }
  }
}

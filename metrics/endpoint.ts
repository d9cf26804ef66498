/**
 * The HTTP endpoint of one process:
 *
 *   GET /metrics   Prometheus text exposition (version 0.0.4)
 *   GET /healthz   JSON health report; 200 when the job is ready, 503 otherwise
 *   GET /          a short index
 *
 * Life cycle (an illegal transition throws):
 *
 *   CREATED ──listen()──▶ LISTENING ──close()──▶ CLOSED
 *      │
 *      └──── listen error (port in use) ──▶ FAILED
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCodes, SluiceError } from '../engine/errors.ts';
import { Lifecycle } from '../engine/runtime/lifecycle.ts';
import { CONTENT_TYPE } from './merge.ts';

export type EndpointState = 'CREATED' | 'LISTENING' | 'CLOSED' | 'FAILED';

const LEGAL: Record<EndpointState, readonly EndpointState[]> = {
  CREATED: ['LISTENING', 'FAILED', 'CLOSED'],
  LISTENING: ['CLOSED'],
  CLOSED: [],
  FAILED: [],
};

export interface HealthReport {
  ready: boolean;
  [field: string]: unknown;
}

/** What the endpoint serves. */
export interface ScrapeTarget {
  scrape(): Promise<string>;
  health(): HealthReport;
}

export class MetricsEndpoint {
  readonly lifecycle = new Lifecycle<EndpointState>('metrics endpoint', 'CREATED', LEGAL);
  private readonly server: Server;

  constructor(private readonly target: ScrapeTarget) {
    this.server = createServer((req, res) => void this.handle(req, res));
  }

  /** Listens on host:port (port 0: any free port). */
  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        this.lifecycle.transition('FAILED');
        const why = err.code === 'EADDRINUSE' ? 'is in use' : err.code === 'EACCES' ? 'needs privileges' : `failed: ${err.message}`;
        reject(new SluiceError(ErrorCodes.CONFIG, `metrics endpoint: ${host}:${port} ${why}; choose another --metrics-port`, { cause: err }));
      };
      this.server.once('error', onError);
      this.server.listen({ port, host }, () => {
        this.server.off('error', onError);
        resolve();
      });
    });
    this.lifecycle.transition('LISTENING');
    return this.address!;
  }

  get address(): AddressInfo | undefined {
    const a = this.server.address();
    return a && typeof a === 'object' ? a : undefined;
  }

  /** Stops listening and drops open connections (Prometheus keeps them alive between scrapes). */
  async close(): Promise<void> {
    if (!this.lifecycle.is('LISTENING')) {
      if (this.lifecycle.canTransition('CLOSED')) this.lifecycle.transition('CLOSED');
      return;
    }
    this.lifecycle.transition('CLOSED');
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    await closed;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'only GET\n', { allow: 'GET, HEAD' });
    try {
      if (path === '/metrics') return send(res, 200, CONTENT_TYPE, await this.target.scrape());
      if (path === '/healthz') {
        const h = this.target.health();
        return send(res, h.ready ? 200 : 503, 'application/json', JSON.stringify(h) + '\n');
      }
      if (path === '/') return send(res, 200, 'text/plain', 'sluice\n  /metrics  Prometheus metrics\n  /healthz  job state and readiness\n');
      return send(res, 404, 'text/plain', `no ${path} here; try /metrics or /healthz\n`);
    } catch (err) {
      return send(res, 500, 'text/plain', `sluice: ${(err as Error).message}\n`);
    }
  }
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

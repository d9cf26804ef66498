/**
 * The HTTP endpoint of one process:
 *
 *   GET /            the status page (status-page.html; read-only, no external resources)
 *   GET /api/status  the page's data, JSON (status.ts, docs/status-api.md)
 *   GET /metrics     Prometheus text exposition (version 0.0.4)
 *   GET /healthz     JSON health report; 200 when the job is ready, 503 otherwise
 *
 * Life cycle (an illegal transition throws):
 *
 *   CREATED ──listen()──▶ LISTENING ──close()──▶ CLOSED
 *      │
 *      └──── listen error (port in use) ──▶ FAILED
 */
import { readFileSync } from 'node:fs';
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
  /** The /api/status document; without it, / is a plain index. */
  status?(): Promise<unknown>;
}

let page: string | undefined;
/** The status page, one self-contained file, read once. */
function statusPage(): string {
  return (page ??= readFileSync(new URL('./status-page.html', import.meta.url), 'utf8'));
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
      const status = this.target.status?.bind(this.target);
      if (path === '/api/status' && status) {
        return send(res, 200, 'application/json', JSON.stringify(await status()) + '\n', { 'cache-control': 'no-store' });
      }
      if (path === '/' && status) return send(res, 200, 'text/html; charset=utf-8', statusPage(), { 'content-security-policy': CSP });
      if (path === '/') return send(res, 200, 'text/plain', 'sluice\n  /metrics  Prometheus metrics\n  /healthz  job state and readiness\n');
      return send(res, 404, 'text/plain', `no ${path} here; try /, /api/status, /metrics or /healthz\n`);
    } catch (err) {
      return send(res, 500, 'text/plain', `sluice: ${(err as Error).message}\n`);
    }
  }
}

/** The page loads nothing from elsewhere, and may only fetch from its own origin. */
const CSP = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:";

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}

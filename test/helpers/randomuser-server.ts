/**
 * A local stand-in for https://randomuser.me/api/ that serves the recorded
 * responses in test/fixtures/randomuser/ (the machines have no internet), and
 * misbehaves on demand.
 *
 * Paging follows the real API: GET /api/?results=N&page=P&seed=S returns
 * users [(P-1)N, PN) of the recorded pool (wrapping around at its end), so
 * the same (page, results) always gives the same users, like the real API
 * with a fixed seed. The pool is the 200 US users followed by the Brazilian
 * one, 201 in all.
 *
 * Faults are queued and consumed one request each, in order:
 *   server.fail({ status: 500 })                       an error status
 *   server.fail({ status: 429, retryAfter: '2' })      rate limited, Retry-After: 2
 *   server.fail({ delayMs: 3000 })                     answer late (then normally)
 *   server.fail({ body: '<html>oops</html>' })          200 with a non-JSON body
 *   server.fail({ mutate: (users) => users })          rewrite the page's users
 * `server.down = true` answers 503 without Retry-After to everything until reset.
 * Every request is logged with its arrival time, for checking retry timing.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { registerCleanup } from './kafka.ts';

export const RANDOMUSER_DIR = join(import.meta.dirname, '..', 'fixtures', 'randomuser');
export const RECORDED_FILES = ['randomuser_api_v1.3_results200_US_macksm3.json', 'randomuser_api_v1.4_results1_BR_codeacademyuz.json'];

export type RandomUser = Record<string, unknown> & { login: { uuid: string } };

/** Every recorded user, in pool order (deep copies, so tests may mutate them). */
export function recordedUsers(): RandomUser[] {
  return RECORDED_FILES.flatMap((f) => (JSON.parse(readFileSync(join(RANDOMUSER_DIR, f), 'utf8')) as { results: RandomUser[] }).results);
}

export interface Fault {
  status?: number;
  retryAfter?: string;
  delayMs?: number;
  body?: string;
  mutate?: (users: RandomUser[]) => RandomUser[];
}

export interface LoggedRequest {
  at: number;
  path: string;
  query: Record<string, string>;
  status: number;
}

export interface RandomUserServer {
  /** e.g. http://127.0.0.1:41234/api/ */
  url: string;
  readonly requests: LoggedRequest[];
  fail(...faults: Fault[]): void;
  down: boolean;
  close(): Promise<void>;
}

export async function startRandomUserServer(pool: RandomUser[] = recordedUsers()): Promise<RandomUserServer> {
  const faults: Fault[] = [];
  const requests: LoggedRequest[] = [];
  const state = { down: false };
  const server: Server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(u.searchParams);
    const log = (status: number): void => void requests.push({ at: Date.now(), path: u.pathname, query, status });
    const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
      log(status);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(body);
    };
    if (!u.pathname.startsWith('/api')) return send(404, '{"error":"not found"}');
    if (state.down) return send(503, '{"error":"down for maintenance"}');
    const f = faults.shift() ?? {};
    const answer = (): void => {
      if (res.destroyed) return;
      if (f.status) return send(f.status, JSON.stringify({ error: `injected ${f.status}` }), f.retryAfter ? { 'retry-after': f.retryAfter } : {});
      if (f.body !== undefined) return send(200, f.body, { 'content-type': 'text/html' });
      const n = Math.max(1, Math.min(5000, Number(query.results ?? 1) || 1));
      const page = Math.max(1, Number(query.page ?? 1) || 1);
      let users: RandomUser[] = [];
      for (let i = 0; i < n; i++) users.push(pool[((page - 1) * n + i) % pool.length]);
      if (f.mutate) users = f.mutate(structuredClone(users));
      send(200, JSON.stringify({ results: users, info: { seed: query.seed ?? 'recorded', results: n, page, version: '1.4' } }));
    };
    if (f.delayMs) setTimeout(answer, f.delayMs).unref();
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  let closed = false;
  const close = async (): Promise<void> => {
    if (closed) return;
    closed = true;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  registerCleanup(close);
  return {
    url: `http://127.0.0.1:${port}/api/`,
    requests,
    fail: (...fs) => void faults.push(...fs),
    get down() {
      return state.down;
    },
    set down(v: boolean) {
      state.down = v;
    },
    close,
  };
}

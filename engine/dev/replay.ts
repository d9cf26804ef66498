/**
 * `sluice dev replay wikipedia|randomuser [--file F] [--port N] [--rate N]`:
 * recorded data served locally in the shape of the live feed, for running the
 * ingest jobs where the internet is not (and repeatably where it is).
 *
 *   wikipedia   an SSE stream like https://stream.wikimedia.org/v2/stream/recentchange:
 *               every recorded event once, `--rate` events per second, ids
 *               `replay-<n>` (a reconnect with Last-Event-ID resumes after it),
 *               then heartbeats. Input: NDJSON (one event per line) or a
 *               recorded SSE text (`event:`/`id:`/`data:` blocks).
 *   randomuser  GET /api/?results=N&page=P like https://randomuser.me/api/ with a
 *               seed: page P holds users [(P-1)N, PN) of the recorded pool,
 *               wrapping around. Input: recorded API answers ({ results: [...] }).
 *
 * In a clone the defaults are the recordings under test/fixtures/. Runs in the
 * foreground until Ctrl-C; read-only, on 127.0.0.1.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { DevIo } from './dev-command.ts';

const USAGE = `usage: sluice dev replay wikipedia [--file events.ndjson|events.sse.txt] [--port 8081] [--rate 100]
       sluice dev replay randomuser [--file api-answer.json ...] [--port 8082]
`;

/**
 * The repository's test/fixtures, when this runs from a clone: looked for only
 * up to the sluice package's own root (the folder whose package.json is
 * sluice's), so an installed package never picks up a user's test/fixtures.
 */
export function fixtures(): string | undefined {
  for (let d = dirname(fileURLToPath(import.meta.url)); d !== dirname(d); d = dirname(d)) {
    if (!existsSync(join(d, 'package.json'))) continue;
    if (!isSluicePackage(join(d, 'package.json'))) return undefined;
    return existsSync(join(d, 'test', 'fixtures')) ? join(d, 'test', 'fixtures') : undefined;
  }
  return undefined;
}

function isSluicePackage(file: string): boolean {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'sluice';
  } catch {
    return false;
  }
}

/** The `data:` payloads of a recorded feed: NDJSON lines, or the data of each SSE event. */
export function recordedEvents(text: string): string[] {
  if (/^(event|id|data):/m.test(text)) {
    return text.split(/\r?\n\r?\n/).flatMap((block) => {
      const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:')).map((l) => l.slice(5).replace(/^ /, ''));
      return data.length ? [data.join('\n')] : [];
    });
  }
  return text.split('\n').filter((l) => l.trim() !== '');
}

export async function replayCommand(argv: string[], io: DevIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { file: { type: 'string', multiple: true }, port: { type: 'string' }, rate: { type: 'string' } } });
  } catch (err) {
    io.err(`sluice dev replay: ${(err as Error).message}\n${USAGE}`);
    return 2;
  }
  const [what] = parsed.positionals;
  const fx = fixtures();
  const defaults: Record<string, string[]> = {
    wikipedia: fx ? ['polars_book_wikimedia.ndjson', 'wiki_visualizer_example.events.sse.txt'].map((f) => join(fx, 'wikimedia', f)) : [],
    randomuser: fx ? ['randomuser_api_v1.3_results200_US_macksm3.json', 'randomuser_api_v1.4_results1_BR_codeacademyuz.json'].map((f) => join(fx, 'randomuser', f)) : [],
  };
  if (what !== 'wikipedia' && what !== 'randomuser') {
    io.err(USAGE);
    return 2;
  }
  const files = parsed.values.file ?? defaults[what];
  if (files.length === 0) {
    io.err(`sluice dev replay ${what}: give --file (the recordings in test/fixtures/ exist only in a clone of the repository)\n`);
    return 2;
  }
  const port = Number(parsed.values.port ?? (what === 'wikipedia' ? 8081 : 8082));
  const rate = Math.max(1, Number(parsed.values.rate ?? 100));
  const r = await startReplay(what, files, { port, rate });
  io.out(`replaying ${r.described} at ${r.url}\n  use: --set url=${r.url}\n  stop: Ctrl-C\n`);
  return new Promise<number>((resolve) => {
    const stop = (): void => void r.close().then(() => resolve(0));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

export interface Replay {
  /** What to pass as the job's `url` setting. */
  url: string;
  described: string;
  close(): Promise<void>;
}

/** Serves `files` as the `what` feed on 127.0.0.1:`port` (0: any free port). */
export async function startReplay(what: 'wikipedia' | 'randomuser', files: readonly string[], o: { port: number; rate?: number }): Promise<Replay> {
  const rate = Math.max(1, o.rate ?? 100);
  let handler: (path: string, query: URLSearchParams, lastEventId: string | undefined, res: ServerResponse) => void;
  let described: string;
  if (what === 'wikipedia') {
    const events = files.flatMap((f) => recordedEvents(readFileSync(f, 'utf8')));
    described = `${events.length} recorded recentchange events at ${rate}/s`;
    handler = (_path, _q, lastId, res) => void streamEvents(events, rate, lastId, res);
  } else {
    const pool = files.flatMap((f) => (JSON.parse(readFileSync(f, 'utf8')) as { results: unknown[] }).results);
    described = `${pool.length} recorded users`;
    handler = (path, q, _l, res) => {
      if (!path.startsWith('/api')) return void res.writeHead(404).end();
      const n = Math.max(1, Math.min(5000, Number(q.get('results') ?? 1) || 1));
      const page = Math.max(1, Number(q.get('page') ?? 1) || 1);
      const results = Array.from({ length: n }, (_, i) => pool[((page - 1) * n + i) % pool.length]);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ results, info: { seed: q.get('seed') ?? 'replay', results: n, page, version: '1.4' } }));
    };
  }
  const server = createServer((req, res) => {
    if (req.method !== 'GET') return void res.writeHead(405).end();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const lastId = req.headers['last-event-id'];
    handler(url.pathname, url.searchParams, Array.isArray(lastId) ? lastId[0] : lastId, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', resolve);
  });
  const addr = server.address() as { port: number };
  return {
    url: what === 'wikipedia' ? `http://127.0.0.1:${addr.port}/v2/stream/recentchange` : `http://127.0.0.1:${addr.port}/api/`,
    described,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Sends the events after `lastId`, `rate` per second, then keeps the stream open with heartbeats. */
async function streamEvents(events: readonly string[], rate: number, lastId: string | undefined, res: ServerResponse): Promise<void> {
  const from = lastId?.startsWith('replay-') ? Number(lastId.slice(7)) + 1 : 0;
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  let open = true;
  res.once('close', () => (open = false));
  const started = Date.now();
  for (let i = from; i < events.length && open; i++) {
    res.write(`event: message\nid: replay-${i}\ndata: ${events[i]}\n\n`);
    const due = started + ((i - from + 1) * 1000) / rate;
    if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
  }
  while (open) {
    res.write(':heartbeat\n\n');
    await new Promise((r) => setTimeout(r, 5_000));
  }
}

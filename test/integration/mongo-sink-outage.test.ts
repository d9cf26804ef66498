/**
 * A sink outage against a real MongoDB-wire server (FerretDB), through the
 * real CLI. The job's sink reaches FerretDB through a TCP proxy the test
 * cuts (the server itself keeps its data):
 *
 *   1. a short outage: every retry is logged with its cause, /healthz answers
 *      503 naming the stalled partitions and the sink, then the sink recovers
 *      (a line says so) and /healthz is 200 again;
 *   2. an outage longer than the retry budget: the job exits 1 with one line
 *      naming the sink, the partition and the cause;
 *   3. a rerun with the server back delivers the rest: every record is in
 *      the collection exactly once, nothing lost to the failure.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFerretDb, type FerretDb } from '../../engine/dev/servers/ferretdb.ts';
import { runSluice, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';

const JOB = fileURLToPath(new URL('./fixtures/mongo-outage-job.ts', import.meta.url));

/** A TCP proxy to `target` that can be cut (listener closed, connections destroyed) and restored on the same port. */
class Proxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  constructor(private readonly target: number) {}

  async up(): Promise<void> {
    const server = createServer((client) => {
      const upstream = connect(this.target, '127.0.0.1');
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => {});
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    for (const sock of this.sockets) sock.destroy();
    this.sockets.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  }
}

let db: FerretDb;
let client: MongoClient;
let proxy: Proxy;

beforeAll(async () => {
  db = await startFerretDb();
  client = new MongoClient(db.uri);
  await client.connect();
  proxy = new Proxy(db.port);
  await proxy.up();
});

afterAll(async () => {
  await proxy?.down();
  await client?.close();
  await db?.stop();
});

interface Health {
  ready: boolean;
  stalled: Array<{ partition: number; sink: string; cause: string; failures: number; failingSeconds: number }>;
}

async function health(url: string): Promise<{ status: number; body: Health } | undefined> {
  const res = await fetch(`${url}/healthz`).catch(() => undefined);
  return res && { status: res.status, body: (await res.json()) as Health };
}

describe('a MongoDB sink outage', () => {
  it('is retried and logged, turns /healthz to 503 naming the partitions, recovers; past the budget the job exits 1 with one line; nothing is lost', async () => {
    const docs = client.db('outage').collection<{ _id: string }>('docs');
    const stateDir = tempDir();
    const outputDir = tempDir();
    const common = ['run', JOB, '--state-dir', stateDir, '--output-dir', outputDir, '--workers', '2', '--checkpoint-interval', '200', '--set', `uri=mongodb://127.0.0.1:${proxy.port}/`];
    const p = startSluice([...common, '--set', 'ratePerSec=100', '--sink-retry-for', '15000', '--sink-backoff-max', '1000', '--stall-after', '1500', '--metrics-port', '0']);
    let url = '';
    await waitFor('the metrics address', () => {
      const m = /metrics at (http:\/\/[^/\s]+)\/metrics/.exec(p.stderr());
      if (m) url = m[1];
      return m !== null;
    });
    await waitFor('documents in MongoDB', async () => (await docs.countDocuments()) >= 200, 120_000);

    // 1. A short outage.
    await proxy.down();
    let h: { status: number; body: Health } | undefined;
    await waitFor('/healthz 503 naming the stalled partitions', async () => {
      h = await health(url);
      return h?.status === 503 && h.body.stalled.length === 2;
    }, 120_000, 100).catch((err: Error) => {
      throw new Error(`${err.message}; last /healthz at ${url}: ${JSON.stringify(h)}; process: ${p.child.exitCode ?? p.child.signalCode ?? 'running'}; stderr:\n${p.stderr()}`);
    });
    expect(h!.body.ready).toBe(false);
    expect(h!.body.stalled.map((s) => [s.partition, s.sink])).toEqual([[0, 'docs'], [1, 'docs']]);
    for (const s of h!.body.stalled) expect(s.cause).toMatch(/^mongo sink mongodb:\/\/127\.0\.0\.1:\d+\/ outage\.docs: write of \d+ documents failed: .*(ECONNREFUSED|Server selection timed out)/);
    const retryLine = /^sluice: sink "docs" of partition [01] failed for epochs? [\d–]+ \(mongo sink .*\); retry \d+ in \d+\.\d s/m;
    expect(p.stderr()).toMatch(retryLine);
    await proxy.up();
    await waitFor('/healthz 200 again', async () => (await health(url))?.status === 200, 120_000, 100);
    expect(p.stderr()).toMatch(/^sluice: sink "docs" of partition [01] recovered: epochs? [\d–]+ delivered after \d+ failed attempts in \d+\.\d s$/m);

    // 2. An outage longer than the budget (15 s): the job fails, with one line.
    const before = await docs.countDocuments();
    expect(before).toBeLessThan(6000); // still running: the rest of the input is yet to come
    await proxy.down();
    expect(await p.exited).toBe(1);
    const lines = p.stderr().split('\n').filter(Boolean);
    expect(lines.at(-1)).toMatch(
      /^sluice: sink "docs" of partition [01] failed for epochs? [\d–]+, gave up after \d+ attempts in 1\d\.\d s \(retry budget 15000 ms, --sink-retry-for\): mongo sink mongodb:\/\/127\.0\.0\.1:\d+\/ outage\.docs: write of \d+ documents failed: /,
    );
    // Rate-limited: at most a line per 5 s per sink and partition (plus the first of each outage and the recovery).
    const retries = lines.filter((l) => / retry \d+ in /.test(l));
    expect(retries.length).toBeLessThanOrEqual(2 * (2 + 15 / 5 + 1));

    // 3. The server is back: a rerun delivers what the failed run had not, exactly once.
    await proxy.up();
    const rerun = await runSluice([...common, '--set', 'ratePerSec=0', '--shutdown-timeout', '120000']);
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(await docs.countDocuments()).toBe(6000);
    const ids = new Set((await docs.find({}, { projection: { _id: 1 } }).toArray()).map((d) => d._id));
    for (let p = 0; p < 2; p++) for (let i = 0; i < 3000; i++) expect(ids.has(`p${p}-${i}`)).toBe(true);
  });
});

/**
 * The BigQuery sink against the real emulator (goccy/bigquery-emulator,
 * built and started by engine/dev/servers/bigquery-emulator.ts): table creation
 * with day partitioning, exact upserts by row id, idempotent redelivery,
 * awkward strings, and a clear error for a bad value.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BigQuery } from '@google-cloud/bigquery';
import { OAuth2Client } from 'google-auth-library';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkDelivery, SinkDriver } from '../../engine/contracts/sinks.ts';
import { bigQuerySink } from '../../engine/sinks/bigquery-sink.ts';
import type { BqColumn } from '../../engine/sinks/bigquery-sql.ts';
import { startBigQueryEmulator, type BigQueryEmulator } from '../../engine/dev/servers/bigquery-emulator.ts';

let emu: BigQueryEmulator;
let bq: BigQuery;
beforeAll(async () => {
  emu = await startBigQueryEmulator({ projectId: 'sinktest' });
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'test', expiry_date: 8.64e15 });
  bq = new BigQuery({ projectId: 'sinktest', apiEndpoint: emu.endpoint, authClient: auth });
});
afterAll(async () => emu?.stop());

const columns: BqColumn[] = [
  { name: 'row_id', type: 'STRING', nullable: false },
  { name: 'title', type: 'STRING' },
  { name: 'n', type: 'INT64' },
  { name: 'ts', type: 'TIMESTAMP' },
];

const delivery = (epoch: number, rows: Array<Record<string, unknown>>): SinkDelivery => ({
  sinkId: 'bq',
  actorId: 'p0',
  partition: 0,
  epoch,
  records: rows.map((value, i) => ({ id: `0-${epoch}-${i}`, key: null, value, time: 0 })),
});

async function rows(): Promise<unknown[]> {
  const [r] = await bq.query({ query: 'SELECT row_id, title, n, ts FROM `sinktest.ds.t` ORDER BY row_id' });
  return (r as Array<{ row_id: string; title: string | null; n: number | null; ts: { value: string } | null }>).map((x) => ({ ...x, ts: x.ts?.value ?? null }));
}

describe('BigQuery sink (emulator)', () => {
  let d: SinkDriver;
  beforeAll(async () => {
    d = bigQuerySink({ projectId: 'sinktest', dataset: 'ds', table: 't', columns, keyColumn: 'row_id', rowId: (r) => String(r.row_id), partitionField: 'ts', apiEndpoint: emu.endpoint }).create();
    await d.open({ job: 't', sinkId: 'bq', workerId: 0, runtime: { brokers: [], stateDir: '', outputDir: '', embedded: true } });
  });

  it('creates the table partitioned by day and upserts rows by id: redelivery and updates replace, never add', async () => {
    const [meta] = await bq.dataset('ds').table('t').getMetadata();
    expect(meta.timePartitioning).toMatchObject({ type: 'DAY', field: 'ts' });
    const ts = Date.UTC(2023, 6, 29, 7, 51);
    const awkward = "it's \\ a \"title\" with ünïcödé, 😀, a\nnewline and ') ; DROP TABLE x; --";
    await d.deliver(delivery(1, [{ row_id: 'a', title: awkward, n: 1, ts }, { row_id: 'b', title: null, n: null, ts: null }]));
    await d.deliver(delivery(1, [{ row_id: 'a', title: awkward, n: 1, ts }, { row_id: 'b', title: null, n: null, ts: null }])); // redelivered
    await d.deliver(delivery(2, [{ row_id: 'a', title: 'A', n: 2, ts }, { row_id: 'a', title: 'A', n: 3, ts }, { row_id: 'c', title: 'C', n: 9, ts }]));
    expect(await rows()).toEqual([
      { row_id: 'a', title: 'A', n: 3, ts: '2023-07-29T07:51:00.000Z' },
      { row_id: 'b', title: null, n: null, ts: null },
      { row_id: 'c', title: 'C', n: 9, ts: '2023-07-29T07:51:00.000Z' },
    ]);
    await d.deliver(delivery(3, [{ row_id: 'd', title: awkward, n: 4, ts }]));
    const [r] = await bq.query({ query: "SELECT title FROM `sinktest.ds.t` WHERE row_id = 'd'" });
    expect((r as Array<{ title: string }>)[0].title).toBe(awkward);
  });

  it('rejects a value its column cannot hold with a non-retryable error naming the column', async () => {
    await expect(d.deliver(delivery(4, [{ row_id: 'e', title: 'E', n: 1.5, ts: 0 }]))).rejects.toMatchObject({ retryable: false, message: expect.stringMatching(/column n \(INT64\) cannot hold 1.5/) });
  });
});

describe('BigQuery sink, insert-all mode (emulator behind a recording proxy)', () => {
  it('streams rows with insertId = the row id (window and key), the same ids on a redelivery', async () => {
    // The emulator ignores insertId, so what the sink sends is checked on the wire: a proxy in
    // front of the real emulator records the insertAll request bodies.
    const bodies: Array<{ rows: Array<{ insertId: string; json: Record<string, unknown> }> }> = [];
    const proxy = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        if (req.url?.includes('/insertAll')) bodies.push(JSON.parse(body.toString()) as (typeof bodies)[number]);
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'content-length', 'connection'].includes(k))) as Record<string, string>;
        fetch(emu.endpoint + req.url, { method: req.method, headers, body: body.length ? body : undefined })
          .then(async (r) => {
            res.writeHead(r.status, { 'content-type': r.headers.get('content-type') ?? 'application/json' });
            res.end(Buffer.from(await r.arrayBuffer()));
          })
          .catch((err: Error) => {
            res.writeHead(502);
            res.end(err.message);
          });
      });
    });
    await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
    try {
      const endpoint = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
      const rowId = (r: Record<string, unknown>) => `${String(r.window_start)}|${String(r.title)}`;
      const ins = bigQuerySink({ projectId: 'sinktest', dataset: 'ds', table: 'streamed', columns, keyColumn: 'row_id', rowId, mode: 'insert-all', apiEndpoint: endpoint }).create();
      await ins.open({ job: 't', sinkId: 'bq', workerId: 0, runtime: { brokers: [], stateDir: '', outputDir: '', embedded: true } });
      const ts = Date.UTC(2023, 6, 29, 7, 51);
      const batch = [{ window_start: ts, title: 'A', n: 1, ts }, { window_start: ts, title: 'B', n: 2, ts }];
      await ins.deliver(delivery(1, batch));
      await ins.deliver(delivery(1, batch)); // redelivered after a crash: the same insertIds
      expect(bodies.map((b) => b.rows.map((r) => r.insertId))).toEqual([[`${ts}|A`, `${ts}|B`], [`${ts}|A`, `${ts}|B`]]);
      expect(bodies[0].rows.map((r) => r.json.row_id)).toEqual([`${ts}|A`, `${ts}|B`]);
      const [r] = await bq.query({ query: 'SELECT DISTINCT row_id FROM `sinktest.ds.streamed` ORDER BY row_id' });
      expect((r as Array<{ row_id: string }>).map((x) => x.row_id)).toEqual([`${ts}|A`, `${ts}|B`]);
      await ins.close();
    } finally {
      await new Promise((r) => proxy.close(r));
    }
  });
});

/**
 * The MongoDB sink against a real MongoDB-wire server (FerretDB 1.24 on
 * SQLite, built and started by engine/dev/servers/ferretdb.ts): documents land with
 * their deterministic _id, a redelivered epoch changes nothing, a changed
 * value replaces the document, both write modes agree, errors are classified
 * and never carry the connection string's password.
 */
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SinkDelivery, SinkRecord } from '../../engine/contracts/sinks.ts';
import { SluiceError } from '../../engine/errors.ts';
import { mongoSink, type MongoSinkOptions } from '../../engine/sinks/mongo-sink.ts';
import { startFerretDb, type FerretDb } from '../../engine/dev/servers/ferretdb.ts';

let db: FerretDb;
let client: MongoClient;

beforeAll(async () => {
  db = await startFerretDb();
  client = new MongoClient(db.uri);
  await client.connect();
});

afterAll(async () => {
  await client?.close();
  await db?.stop();
});

const runtime = { brokers: [], stateDir: '/tmp', outputDir: '/tmp', embedded: false };

async function openSink(o: Partial<MongoSinkOptions> & { collection: string }) {
  const driver = mongoSink({ uri: db.uri, db: 'sink_test', ...o }).create();
  await driver.open({ job: 'test', sinkId: 'mongo', workerId: 0, runtime });
  return driver;
}

function delivery(epoch: number, records: SinkRecord[]): SinkDelivery {
  return { sinkId: 'mongo', actorId: 'p0', partition: 0, epoch, records };
}

function rec(i: number, value: Record<string, unknown>): SinkRecord {
  return { id: `0-1-${i}`, key: value.k as string, value, time: i };
}

describe('mongo sink', () => {
  for (const mode of ['insert-then-replace', 'upsert'] as const) {
    it(`${mode}: deterministic _id, a redelivered epoch changes nothing, a new value replaces the document`, async () => {
      const collection = `docs_${mode.replace(/-/g, '_')}`;
      const sink = await openSink({ collection, mode, batchSize: 70, id: (v) => (v as { k: string }).k });
      const records = Array.from({ length: 300 }, (_, i) => rec(i, { k: `key-${i}`, n: i }));
      await sink.deliver(delivery(1, records));
      await sink.deliver(delivery(1, records)); // the outbox redelivers after a crash
      const coll = client.db('sink_test').collection<{ _id: string; k: string; n: number }>(collection);
      expect(await coll.countDocuments()).toBe(300);
      expect(await coll.findOne({ _id: 'key-42' })).toEqual({ _id: 'key-42', k: 'key-42', n: 42 });
      // Half of them again with new values, half new documents: existing ones are replaced.
      await sink.deliver(delivery(2, Array.from({ length: 100 }, (_, i) => rec(i, { k: `key-${i * 4}`, n: -i }))));
      expect(await coll.countDocuments()).toBe(300 + 25);
      expect(await coll.findOne({ _id: 'key-8' })).toEqual({ _id: 'key-8', k: 'key-8', n: -2 });
      expect(await coll.findOne({ _id: 'key-396' })).toEqual({ _id: 'key-396', k: 'key-396', n: -99 });
      if (mode === 'insert-then-replace') expect(sink.stats.replaced).toBe(300 + 75);
      await sink.close();
    });
  }

  it('insert-once: a redelivery changes nothing, and a stored document is kept (first write wins)', async () => {
    const sink = await openSink({ collection: 'docs_insert_once', mode: 'insert-once', id: (v) => (v as { k: string }).k });
    const records = Array.from({ length: 200 }, (_, i) => rec(i, { k: `key-${i}`, n: i }));
    await sink.deliver(delivery(1, records));
    await sink.deliver(delivery(1, records));
    await sink.deliver(delivery(2, [rec(0, { k: 'key-7', n: -7 }), rec(1, { k: 'key-new', n: 1 })]));
    const coll = client.db('sink_test').collection<{ _id: string; k: string; n: number }>('docs_insert_once');
    expect(await coll.countDocuments()).toBe(201);
    expect(await coll.findOne({ _id: 'key-7' })).toEqual({ _id: 'key-7', k: 'key-7', n: 7 });
    expect(sink.stats).toMatchObject({ inserted: 201, kept: 201, replaced: 0 });
    await sink.close();
  });

  it('uses the record id as _id when no id function is given, and wraps non-object values', async () => {
    const sink = await openSink({ collection: 'by_record_id' });
    await sink.deliver(delivery(1, [{ id: '3-7-0', key: null, value: 'plain', time: 0 }, { id: '3-7-1', key: null, value: { a: 1 }, time: 0 }]));
    const coll = client.db('sink_test').collection<{ _id: string }>('by_record_id');
    expect(await coll.find().sort({ _id: 1 }).toArray()).toEqual([
      { _id: '3-7-0', value: 'plain' },
      { _id: '3-7-1', a: 1 },
    ]);
    await sink.close();
  });

  it('a server that is gone is a retryable failure whose message has no password', async () => {
    // A port nothing listens on, with credentials in the URI.
    const dead = `mongodb://alice:s3cr3t-pw@127.0.0.1:1/?authSource=admin`;
    const driver = mongoSink({ uri: dead, db: 'x', collection: 'y', timeoutMs: 500 }).create();
    const err = await driver.open({ job: 'test', sinkId: 'mongo', workerId: 0, runtime }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).retryable).toBe(true);
    expect((err as Error).message).toContain('alice:***@127.0.0.1:1');
    expect((err as Error).message).not.toContain('s3cr3t-pw');
  });

  it('a write error that is not retryable fails the delivery as not retryable', async () => {
    const sink = await openSink({ collection: 'bad_docs', id: () => 'same' });
    // A field name starting with '$' is rejected by the server (FerretDB and MongoDB alike).
    const err = await sink.deliver(delivery(1, [rec(0, { $bad: 1 })])).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).retryable).toBe(false);
    await sink.close();
  });

  it('no connection string at all is a configuration error naming the variable', async () => {
    const saved = process.env.SLUICE_MONGO_URI;
    delete process.env.SLUICE_MONGO_URI;
    try {
      const driver = mongoSink({ db: 'x', collection: 'y' }).create();
      await expect(driver.open({ job: 'test', sinkId: 'm', workerId: 0, runtime })).rejects.toThrow(/SLUICE_MONGO_URI/);
    } finally {
      if (saved !== undefined) process.env.SLUICE_MONGO_URI = saved;
    }
  });
});

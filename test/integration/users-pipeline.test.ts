/**
 * The users pipeline end to end on real servers: randomuser (the recorded
 * responses, served locally) -> users-ingest -> Kafka -> users-to-cassandra
 * -> Cassandra 5.0, and users-raw-to-postgres -> PostgreSQL.
 *
 * One Cassandra and one PostgreSQL for the file (started by engine/dev/servers,
 * about 20 s and 2 s); each test uses its own topics, keyspace and tables, so
 * the tests do not see each other's rows.
 */
import { beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import type cassandra from 'cassandra-driver';
import type pg from 'pg';
import type { RandomUserResult } from '../../jobs/users/randomuser-schema.ts';
import { CREATED_USERS_COLUMNS, toCreatedUserRow, userId, type CreatedUserRow } from '../../jobs/users/user-row.ts';
import { createdUsersDdl } from '../../jobs/users-to-cassandra.ts';
import type { SinkRecord } from '../../engine/contracts/sinks.ts';
import { SluiceError } from '../../engine/errors.ts';
import { createCassandraSinkDriver } from '../../engine/sinks/cassandra-sink.ts';
import { createPostgresSinkDriver } from '../../engine/sinks/postgres-sink.ts';
import { createTopic, kafkaClient, uniqueName } from '../helpers/kafka.ts';
import { recordedUsers, startRandomUserServer, type RandomUser } from '../helpers/randomuser-server.ts';
import { tempDir } from '../helpers/temp.ts';
import { startCassandra } from '../../engine/dev/servers/cassandra.ts';
import {
  JOBS,
  cassandraClient,
  cassandraCount,
  cassandraRows,
  derivedUsers,
  pgCount,
  pgPool,
  pgRows,
  readTopic,
  sleep,
  spawnSluice,
  startJob,
  startUsersServers,
  waitFor,
  type TopicRecord,
  type UsersServers,
} from '../helpers/users-pipeline.ts';

const recorded = recordedUsers();
let servers: UsersServers;
let cql: cassandra.Client;
let pgp: pg.Pool;

beforeAll(async () => {
  servers = await startUsersServers();
  cql = cassandraClient(servers.cassandra.contactPoint);
  pgp = pgPool(servers.postgres.url);
}, 240_000);

/** Every user's row, column by column, as the mapping defines it. */
function expectRows(rows: Map<string, Record<string, unknown>>, users: RandomUser[]): void {
  const want = new Map(users.map((u) => [userId(u.login.uuid), toCreatedUserRow(u as unknown as RandomUserResult) as unknown as Record<string, unknown>]));
  expect(rows.size).toBe(want.size);
  for (const [id, w] of want) expect(rows.get(id), `row ${id}`).toEqual(w);
}

/** The earliest Kafka timestamp of each user: what raw_users.ingested_at must hold. */
function firstSeen(records: TopicRecord[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of records) {
    const id = userId(r.key!);
    m.set(id, Math.min(m.get(id) ?? Infinity, r.timestamp));
  }
  return m;
}

async function ingest(settings: Record<string, string | number>): Promise<void> {
  const runner = await startJob(JOBS.ingest, { intervalMs: 0, batch: 50, topicPartitions: 4, ...settings }, { stateDir: tempDir() });
  const summary = await runner.wait();
  expect(summary.state).toBe('STOPPED');
}

describe('users pipeline', () => {
  it('replays every recorded response into Kafka, Cassandra and PostgreSQL exactly, and a full replay changes no row', async () => {
    const srv = await startRandomUserServer();
    const topic = uniqueName('users_created');
    const dlq = `${topic}.dlq`;
    await ingest({ url: srv.url, count: recorded.length, topic, dlqTopic: dlq });

    // Kafka: one record per user, keyed by login.uuid, the user's JSON as sent.
    const recs = await readTopic(topic, recorded.length);
    expect(recs).toHaveLength(recorded.length);
    expect(recs.map((r) => r.key).sort()).toEqual(recorded.map((u) => u.login.uuid).sort());
    const byKey = new Map(recs.map((r) => [r.key, r.value]));
    for (const u of recorded) expect(byKey.get(u.login.uuid)).toEqual(u);

    // Cassandra: the default keyspace and table, created by the job.
    await cql.execute('DROP KEYSPACE IF EXISTS spark_streams');
    const table = uniqueName('raw_users').replace(/-/g, '_');
    const toC = await startJob(JOBS.cassandra, { topic, cassandra: servers.cassandra.contactPoint }, { stateDir: tempDir() });
    const toP = await startJob(JOBS.postgres, { topic, postgres: servers.postgres.url, table }, { stateDir: tempDir() });
    await waitFor('201 rows in Cassandra', async () => (await cassandraCount(cql, 'spark_streams')) === recorded.length, 90_000);
    await waitFor('201 rows in PostgreSQL', async () => (await pgCount(pgp, table)) === recorded.length, 90_000);
    await Promise.all([toC.stop(), toP.stop()]);
    const rows1 = await cassandraRows(cql, 'spark_streams');
    expectRows(rows1, recorded);
    const ks = await cql.execute("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = 'spark_streams'");
    expect(ks.first().get('replication')).toMatchObject({ class: 'org.apache.cassandra.locator.SimpleStrategy', replication_factor: '1' });
    const raw1 = await pgRows(pgp, table);
    expect(raw1.size).toBe(recorded.length);
    const seen = firstSeen(recs);
    for (const u of recorded) {
      const r = raw1.get(userId(u.login.uuid))!;
      expect(r.payload).toEqual(u);
      expect(r.ingested_at.getTime()).toBe(seen.get(userId(u.login.uuid)));
    }

    // Replay: ingest everything again (new records, same users), and read the
    // whole topic again from the beginning with fresh consumers and state.
    await ingest({ url: srv.url, count: recorded.length, topic, dlqTopic: dlq });
    const all = await readTopic(topic, 2 * recorded.length);
    expect(all).toHaveLength(2 * recorded.length);
    const toC2 = await startJob(JOBS.cassandra, { topic, cassandra: servers.cassandra.contactPoint }, { stateDir: tempDir() });
    const toP2 = await startJob(JOBS.postgres, { topic, postgres: servers.postgres.url, table }, { stateDir: tempDir() });
    await waitFor('the replay to be consumed', () => {
      const done = (r: typeof toC2): boolean => [...r.stats.values()].reduce((n, a) => n + a.recordsIn.reduce((x, y) => x + y, 0), 0) >= all.length;
      return done(toC2) && done(toP2);
    }, 90_000);
    const [s1, s2] = await Promise.all([toC2.stop(), toP2.stop()]);
    expect(s1.recordsIn).toBe(all.length);
    expect(s2.recordsIn).toBe(all.length);
    expect(await cassandraRows(cql, 'spark_streams')).toEqual(rows1);
    expect(await pgRows(pgp, table)).toEqual(raw1);
  });

  it('loses and doubles nothing when users-ingest and both consumers are SIGKILLed mid-run and restarted', async () => {
    const pool = derivedUsers(recorded, 3000);
    const srv = await startRandomUserServer(pool);
    const topic = uniqueName('users_created');
    const keyspace = uniqueName('ks').replace(/-/g, '_');
    const table = uniqueName('raw').replace(/-/g, '_');
    const dirs = { ingest: tempDir(), cass: tempDir(), pg: tempDir() };
    const groups = { cass: uniqueName('g-cass'), pg: uniqueName('g-pg') };
    // 60 pages of 50, one every 300 ms: about 18 s of ingestion, so there is a "mid-run" for each kill.
    const ingestSettings = { url: srv.url, count: pool.length, batch: 50, intervalMs: 300, topic, dlqTopic: `${topic}.dlq` };
    const cassSettings = { topic, keyspace, cassandra: servers.cassandra.contactPoint };
    const pgSettings = { topic, table, postgres: servers.postgres.url };

    // SIGKILL the ingest a third of the way through, and restart it on its state.
    let ing = spawnSluice('users-ingest', ingestSettings, { stateDir: dirs.ingest, groupId: 'unused' });
    await waitFor('20 polls', () => srv.requests.length >= 20, 90_000);
    ing.child.kill('SIGKILL');
    expect(await ing.exited, ing.output()).toBe('SIGKILL');
    const pagesBeforeKill = srv.requests.length;
    ing = spawnSluice('users-ingest', ingestSettings, { stateDir: dirs.ingest, groupId: 'unused' });

    // The consumers follow the ingest; SIGKILL both while rows are still arriving, and restart them.
    let cass = spawnSluice('users-to-cassandra', cassSettings, { stateDir: dirs.cass, groupId: groups.cass });
    let pgj = spawnSluice('users-raw-to-postgres', pgSettings, { stateDir: dirs.pg, groupId: groups.pg });
    await waitFor('rows arriving in both stores', async () => (await cassandraCount(cql, keyspace)) >= 100 && (await pgCount(pgp, table)) >= 100, 90_000);
    cass.child.kill('SIGKILL');
    pgj.child.kill('SIGKILL');
    expect(await Promise.all([cass.exited, pgj.exited])).toEqual(['SIGKILL', 'SIGKILL']);
    expect(await cassandraCount(cql, keyspace)).toBeLessThan(pool.length); // really mid-run
    expect(await pgCount(pgp, table)).toBeLessThan(pool.length);
    cass = spawnSluice('users-to-cassandra', cassSettings, { stateDir: dirs.cass, groupId: groups.cass });
    pgj = spawnSluice('users-raw-to-postgres', pgSettings, { stateDir: dirs.pg, groupId: groups.pg });

    expect(await ing.exited, ing.output()).toBe(0); // the count limit ends it, across the restart
    await waitFor(`${pool.length} rows in both stores`, async () => (await cassandraCount(cql, keyspace)) === pool.length && (await pgCount(pgp, table)) === pool.length, 120_000);
    cass.child.kill('SIGTERM');
    pgj.child.kill('SIGTERM');
    expect(await cass.exited, cass.output()).toBe(0);
    expect(await pgj.exited, pgj.output()).toBe(0);

    // The restarted ingest resumed where its checkpoint was: no page skipped, no page after the last needed.
    const pages = srv.requests.map((r) => Number(r.query.page));
    expect(new Set(pages)).toEqual(new Set(Array.from({ length: pool.length / 50 }, (_, i) => i + 1)));
    // ...and not from page 1: the restart took its position from the checkpointed snapshot.
    expect(Number(srv.requests[pagesBeforeKill].query.page)).toBeGreaterThan(1);
    expect(new Set(srv.requests.map((r) => r.query.seed)).size).toBe(1); // the seed came back from the checkpoint
    // Kafka may hold a redelivered record twice, but only as the same key and value.
    const recs = await readTopic(topic, pool.length);
    const byKey = new Map<string, unknown>();
    for (const r of recs) {
      if (byKey.has(r.key!)) expect(r.value).toEqual(byKey.get(r.key!));
      byKey.set(r.key!, r.value);
    }
    expect(byKey.size).toBe(pool.length);
    expectRows(await cassandraRows(cql, keyspace), pool);
    const raw = await pgRows(pgp, table);
    expect(raw.size).toBe(pool.length);
    for (const u of pool) expect(raw.get(userId(u.login.uuid))?.payload).toEqual(u);
  });

  it('dead-letters a user that fails the schema and a 5 MB user to users_created.dlq, retries a non-JSON body and a 500, loses nothing else', async () => {
    const srv = await startRandomUserServer();
    srv.fail(
      { body: '<html><head><title>502 Bad Gateway</title></head></html>' },
      { status: 500 },
      {
        mutate: (users) => {
          (users[5].location as { postcode: unknown }).postcode = { code: 1234 };
          delete users[5].email;
          users[7].bio = 'x'.repeat(5 * 1024 * 1024);
          return users;
        },
      },
    );
    const topic = uniqueName('users_created');
    const dlq = `${topic}.dlq`;
    await ingest({ url: srv.url, count: recorded.length, topic, dlqTopic: dlq, backoffInitialMs: 50 });
    expect(srv.requests.slice(0, 3).map((r) => [r.status, r.query.page])).toEqual([
      [200, '1'],
      [500, '1'],
      [200, '1'],
    ]);

    const good = recorded.filter((_, i) => i !== 5 && i !== 7);
    const recs = await readTopic(topic, good.length);
    expect(recs.map((r) => r.key).sort()).toEqual(good.map((u) => u.login.uuid).sort());

    const dead = await readTopic(dlq, 2);
    expect(dead).toHaveLength(2);
    type Dead = { job: string; reason: string; error: { message: string }; value: Record<string, unknown> };
    const [schema, big] = [...dead.map((d) => d.value as Dead)].sort((a, b) => a.error.message.localeCompare(b.error.message));
    expect(schema.job).toBe('users-ingest');
    expect(schema.reason).toBe('validation_failed');
    expect(schema.error.message).toContain('/location/postcode must be string,number');
    expect(schema.error.message).toContain("/ must have required property 'email'");
    expect((schema.value.login as { uuid: string }).uuid).toBe(recorded[5].login.uuid);
    expect(big.reason).toBe('validation_failed');
    expect(big.error.message).toMatch(/^record of \d{7} bytes is over maxRecordBytes \(900000\)$/);
    expect(String(big.value.preview)).toContain(recorded[7].login.uuid);
    expect(JSON.stringify(big).length).toBeLessThan(10_000);
  });

  it('rides out a 30 s Cassandra outage: backs off, pauses its partitions, bounded memory, then every row arrives', async () => {
    // Stopping the node must not disturb the other tests' node when one was passed in.
    const node = servers.cassandra.node ?? (await startCassandra());
    const client = node === servers.cassandra.node ? cql : cassandraClient(node.contactPoint);
    const pool = derivedUsers(recorded, 4000);
    const srv = await startRandomUserServer(pool);
    const topic = uniqueName('users_created');
    const keyspace = uniqueName('ks').replace(/-/g, '_');
    // About 200 users/s for 20 s: ingestion goes on while Cassandra is down.
    const ing = await startJob(JOBS.ingest, { url: srv.url, count: pool.length, batch: 50, intervalMs: 250, topic, dlqTopic: `${topic}.dlq` }, { stateDir: tempDir() });
    await waitFor('the topic', () => srv.requests.length >= 2, 30_000);
    const toC = await startJob(JOBS.cassandra, { topic, keyspace, cassandra: node.contactPoint }, { stateDir: tempDir() });
    await waitFor('the first rows', async () => (await cassandraCount(client, keyspace)) >= 200, 60_000);

    await node.stop({ keepDataDir: true });
    const down = Date.now();
    const heap0 = process.memoryUsage().rss;
    let maxUndelivered = 0;
    let sawBackpressure = false;
    let maxLag = 0; // produced - consumed
    let consumedAt10s = -1;
    let consumedAtEnd = -1;
    let maxRss = heap0;
    while (Date.now() - down < 30_000) {
      for (const a of toC.stats.values()) {
        maxUndelivered = Math.max(maxUndelivered, a.undeliveredEpochs);
        sawBackpressure ||= a.backpressured;
      }
      // Users in Kafka that the consumer has not taken in: they wait in the topic, not in memory.
      const produced = [...ing.stats.values()].reduce((n, a) => n + (a.recordsOut.users ?? 0), 0);
      const consumed = [...toC.stats.values()].reduce((n, a) => n + a.recordsIn.reduce((x, y) => x + y, 0), 0);
      maxLag = Math.max(maxLag, produced - consumed);
      if (consumedAt10s < 0 && Date.now() - down >= 10_000) consumedAt10s = consumed;
      consumedAtEnd = consumed;
      maxRss = Math.max(maxRss, process.memoryUsage().rss);
      await sleep(250);
    }
    expect(toC.state).toBe('RUNNING'); // still up, retrying
    const restarted = await startCassandra({ dataDir: node.dataDir, ports: node.ports });
    if (node === servers.cassandra.node) servers.cassandra.node = restarted;
    else onTestFinished(() => restarted.stop());

    expect((await ing.wait()).state).toBe('STOPPED');
    await waitFor(`${pool.length} rows after the outage`, async () => (await cassandraCount(client, keyspace)) === pool.length, 120_000);
    await toC.stop();
    expectRows(await cassandraRows(client, keyspace), pool);
    // Backpressure: with 4 epochs undelivered the actor reports it and its partitions pause (a few more
    // epochs come from batches already fetched); from then on it takes no input, and the rest waits in Kafka.
    expect(sawBackpressure).toBe(true);
    expect(maxUndelivered).toBeGreaterThanOrEqual(4);
    expect(maxUndelivered).toBeLessThanOrEqual(12);
    expect(consumedAtEnd).toBe(consumedAt10s);
    expect(maxLag).toBeGreaterThan(500);
    expect(maxRss - heap0).toBeLessThan(300 * 1024 * 1024);
    console.log(`[users] outage: max undelivered epochs ${maxUndelivered}, consumed ${consumedAtEnd} while ${maxLag} waited in Kafka, rss +${((maxRss - heap0) / 1048576).toFixed(0)} MB`);
  });
});

describe('users sinks', () => {
  const ctx = (sinkId: string) => ({ job: 'test', sinkId, workerId: 0, runtime: { brokers: [], stateDir: '', outputDir: '', embedded: true } });
  const rec = (value: unknown, seq: number, time = 1_000): SinkRecord => ({ id: `0-1-${seq}`, key: null, value, time });
  const delivery = (records: SinkRecord[], epoch = 1) => ({ sinkId: 's', actorId: 'p0', partition: 0, epoch, records });
  /** The job's created_users sink, in a keyspace of the test's own. */
  const createdUsersDriver = (keyspace: string) =>
    createCassandraSinkDriver({
      contactPoints: [servers.cassandra.contactPoint],
      keyspace,
      table: 'created_users',
      columns: CREATED_USERS_COLUMNS,
      key: ['id'],
      row: (v) => CREATED_USERS_COLUMNS.map((c) => (v as CreatedUserRow)[c]),
      setup: createdUsersDdl(keyspace, 'created_users', "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
    });

  it('cassandra: the last record of a key in a delivery wins, and a redelivery rewrites the same rows', async () => {
    const keyspace = uniqueName('ks').replace(/-/g, '_');
    const d = createdUsersDriver(keyspace);
    await d.open(ctx('s'));
    const [a, b] = recorded.slice(0, 2).map((u) => toCreatedUserRow(u as unknown as RandomUserResult));
    const a2 = { ...a, email: 'changed@example.com' };
    const recs = [rec(a, 0), rec(b, 1), rec(a2, 2)];
    await d.deliver(delivery(recs));
    await d.deliver(delivery(recs)); // as after a crash before the outbox ack
    await d.close();
    expect(d.stats.superseded).toBe(2);
    const rows = await cassandraRows(cql, keyspace);
    expect(rows.size).toBe(2);
    expect(rows.get(a.id)).toEqual(a2);
    expect(rows.get(b.id)).toEqual(b);
  });

  it('cassandra: a value the column cannot take fails the delivery at once, not after minutes of retries', async () => {
    const keyspace = uniqueName('ks').replace(/-/g, '_');
    const d = createdUsersDriver(keyspace);
    await d.open(ctx('s'));
    const bad = { ...toCreatedUserRow(recorded[0] as unknown as RandomUserResult), id: 'not-a-uuid' };
    const t0 = Date.now();
    const err = await d.deliver(delivery([rec(bad, 0)])).catch((e: unknown) => e as SluiceError);
    await d.close();
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).retryable).toBe(false);
    expect((err as SluiceError).message).toMatch(/cassandra sink .*created_users/);
    expect(Date.now() - t0).toBeLessThan(5_000);
  });

  it('postgres: upsert keeps the earliest ingested_at and the latest payload, in any order, and redelivery changes nothing', async () => {
    const table = uniqueName('raw').replace(/-/g, '_');
    const d = createPostgresSinkDriver({
      url: servers.postgres.url,
      table,
      columns: ['id', 'payload', 'ingested_at'],
      key: ['id'],
      row: (v, time) => [userId((v as RandomUser).login.uuid), JSON.stringify(v), new Date(time)],
      onConflict: { ingested_at: 'LEAST(t.ingested_at, EXCLUDED.ingested_at)' },
      setup: [`CREATE TABLE IF NOT EXISTS ${table} (id uuid PRIMARY KEY, payload jsonb NOT NULL, ingested_at timestamptz NOT NULL)`],
    });
    await d.open(ctx('s'));
    const u = recorded[0];
    const later = { ...structuredClone(u), phone: '(000)-000-0000' };
    await d.deliver(delivery([rec(u, 0, 2_000), rec(recorded[1], 1, 2_000), rec(u, 2, 5_000)]));
    await d.deliver(delivery([rec(later, 0, 1_000)], 2));
    await d.deliver(delivery([rec(later, 0, 1_000)], 2));
    await d.close();
    const rows = await pgRows(pgp, table);
    expect(rows.size).toBe(2);
    expect(rows.get(userId(u.login.uuid))).toEqual({ payload: later, ingested_at: new Date(1_000) });
    expect(rows.get(userId(recorded[1].login.uuid))).toEqual({ payload: recorded[1], ingested_at: new Date(2_000) });
    expect(d.stats.superseded).toBe(1);
  });

  it('postgres: a data error fails the delivery at once and writes nothing of it', async () => {
    const table = uniqueName('raw').replace(/-/g, '_');
    const d = createPostgresSinkDriver({
      url: servers.postgres.url,
      table,
      columns: ['id', 'payload', 'ingested_at'],
      key: ['id'],
      row: (v, time) => [(v as { id: string }).id, JSON.stringify(v), new Date(time)],
      setup: [`CREATE TABLE IF NOT EXISTS ${table} (id uuid PRIMARY KEY, payload jsonb NOT NULL, ingested_at timestamptz NOT NULL)`],
    });
    await d.open(ctx('s'));
    const err = await d.deliver(delivery([rec({ id: userId('a') }, 0), rec({ id: 'not-a-uuid' }, 1)])).catch((e: unknown) => e as SluiceError);
    await d.close();
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).retryable).toBe(false);
    expect((err as SluiceError).message).toMatch(/invalid input syntax for type uuid/);
    expect(await pgCount(pgp, table)).toBe(0); // one transaction per delivery
  });

  it('users-to-cassandra dead-letters a record in users_created that is not a valid user, and writes the rest', async () => {
    const topic = await createTopic('users_created', 2);
    const dlq = `${topic}.to-cassandra.dlq`;
    const keyspace = uniqueName('ks').replace(/-/g, '_');
    const producer = kafkaClient().producer();
    await producer.connect();
    const good = recorded.slice(0, 20);
    const broken = { ...structuredClone(recorded[20]), login: { username: 'no-uuid' } };
    await producer.send({
      topic,
      messages: [
        ...good.map((u) => ({ key: u.login.uuid, value: JSON.stringify(u) })),
        { key: 'x', value: JSON.stringify(broken) },
        { key: 'y', value: '{"truncated": ' },
      ],
    });
    const job = await startJob(JOBS.cassandra, { topic, keyspace, dlqTopic: dlq, cassandra: servers.cassandra.contactPoint }, { stateDir: tempDir() });
    await waitFor('20 rows', async () => (await cassandraCount(cql, keyspace)) === good.length, 60_000);
    const dead = await readTopic(dlq, 2);
    await job.stop();
    const reasons = dead.map((d) => (d.value as { reason: string; error: { message: string } })).sort((a, b) => a.reason.localeCompare(b.reason));
    expect(reasons.map((r) => r.reason)).toEqual(['decode_error', 'validation_failed']);
    expect(reasons[1].error.message).toContain("/login must have required property 'uuid'");
    expectRows(await cassandraRows(cql, keyspace), good);
  });
});


/**
 * Helpers for the users pipeline's integration tests: the real servers
 * (Cassandra and PostgreSQL started by engine/dev/servers, or reused from
 * SLUICE_CASSANDRA_CONTACT / SLUICE_PG_URL for quick local runs), running
 * the jobs in-process or as `sluice` child processes, and reading back what
 * they wrote.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import cassandra from 'cassandra-driver';
import pg from 'pg';
import type { JobDefinition, Settings } from '../../engine/contracts/job.ts';
import { JobRunner } from '../../engine/runtime/job-runner.ts';
import { userId } from '../../jobs/users/user-row.ts';
import { startCassandra, type CassandraNode } from '../../engine/dev/servers/cassandra.ts';
import { startPostgres, type PostgresServer } from '../../engine/dev/servers/postgres.ts';
import { kafkaBrokers, kafkaClient, registerCleanup, uniqueName } from './kafka.ts';
import type { RandomUser } from './randomuser-server.ts';

export const JOBS = {
  ingest: new URL('../../jobs/users-ingest.ts', import.meta.url).href,
  cassandra: new URL('../../jobs/users-to-cassandra.ts', import.meta.url).href,
  postgres: new URL('../../jobs/users-raw-to-postgres.ts', import.meta.url).href,
};

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function waitFor(what: string, fn: () => Promise<boolean> | boolean, timeoutMs = 60_000, everyMs = 250): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * `n` distinct users made from the recorded ones: user i is recorded user
 * i mod 201 with its own login.uuid and username, so tests can count rows.
 */
export function derivedUsers(recorded: RandomUser[], n: number): RandomUser[] {
  return Array.from({ length: n }, (_, i) => {
    const u = structuredClone(recorded[i % recorded.length]);
    if (i >= recorded.length) {
      u.login.uuid = userId(`derived-${i}`); // any v5 UUID will do as a fresh login.uuid
      const login = u.login as unknown as { username: string };
      login.username = `${login.username}-${i}`;
    }
    return u;
  });
}

// ---- servers ----------------------------------------------------------------

export interface UsersServers {
  cassandra: { contactPoint: string; node?: CassandraNode };
  postgres: { url: string; server?: PostgresServer };
}

export async function startUsersServers(): Promise<UsersServers> {
  const [c, p] = await Promise.all([
    process.env.SLUICE_CASSANDRA_CONTACT ? Promise.resolve(undefined) : startCassandra(),
    process.env.SLUICE_PG_URL ? Promise.resolve(undefined) : startPostgres(),
  ]);
  const servers: UsersServers = {
    cassandra: { contactPoint: process.env.SLUICE_CASSANDRA_CONTACT ?? c!.contactPoint, node: c },
    postgres: { url: process.env.SLUICE_PG_URL ?? p!.url, server: p },
  };
  // The exit hooks in engine/dev/servers only cover a crash; a test file ends with a graceful stop.
  // (A test may replace the node after restarting it, hence the late lookup.)
  registerCleanup(async () => {
    await Promise.all([servers.cassandra.node?.stop(), servers.postgres.server?.stop()]);
  });
  return servers;
}

export function cassandraClient(contactPoint: string): cassandra.Client {
  const client = new cassandra.Client({
    contactPoints: [contactPoint],
    localDataCenter: 'datacenter1',
    policies: { reconnection: new cassandra.policies.reconnection.ConstantReconnectionPolicy(500) },
  });
  registerCleanup(() => client.shutdown());
  return client;
}

export async function cassandraRows(client: cassandra.Client, keyspace: string, table = 'created_users'): Promise<Map<string, Record<string, unknown>>> {
  const out = new Map<string, Record<string, unknown>>();
  const rs = await client.execute(`SELECT * FROM ${keyspace}.${table}`, [], { fetchSize: 100_000 });
  for (const r of rs.rows) {
    const o: Record<string, unknown> = {};
    for (const k of r.keys()) o[k] = r.get(k);
    o.id = String(o.id);
    out.set(o.id as string, o);
  }
  return out;
}

export async function cassandraCount(client: cassandra.Client, keyspace: string, table = 'created_users'): Promise<number> {
  try {
    const rs = await client.execute(`SELECT count(*) FROM ${keyspace}.${table}`);
    return Number(rs.first().get(0));
  } catch {
    return -1; // not created yet, or the node is down
  }
}

export function pgPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  pool.on('error', () => {});
  registerCleanup(() => pool.end());
  return pool;
}

export async function pgRows(pool: pg.Pool, table = 'raw_users'): Promise<Map<string, { payload: unknown; ingested_at: Date }>> {
  const rs = await pool.query<{ id: string; payload: unknown; ingested_at: Date }>(`SELECT id::text AS id, payload, ingested_at FROM ${table}`);
  return new Map(rs.rows.map((r) => [r.id, { payload: r.payload, ingested_at: r.ingested_at }]));
}

export async function pgCount(pool: pg.Pool, table = 'raw_users'): Promise<number> {
  try {
    return Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0].n);
  } catch {
    return -1;
  }
}

// ---- jobs --------------------------------------------------------------------

/** Starts a job in this process (workers are threads), with its defaults overridden by `settings`. */
export async function startJob(moduleUrl: string, settings: Settings, o: { stateDir: string; groupId?: string; workers?: number }): Promise<JobRunner> {
  const job = ((await import(moduleUrl)) as { default: JobDefinition<Settings> }).default;
  const runner = new JobRunner({
    jobModule: moduleUrl,
    job,
    settings: { ...job.settings, ...settings },
    workers: o.workers ?? 1,
    brokers: kafkaBrokers(),
    stateDir: o.stateDir,
    outputDir: `${o.stateDir}-out`,
    checkpointIntervalMs: 500,
    groupId: o.groupId ?? uniqueName('users-test'),
  });
  await runner.start();
  registerCleanup(async () => {
    if (runner.lifecycle.is('RUNNING', 'STARTING')) await runner.stop().catch(() => {});
  });
  return runner;
}

const BIN = fileURLToPath(new URL('../../bin/sluice.js', import.meta.url));

export interface SluiceChild {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | string>;
}

/** `sluice run <job> ...` as a child process, as a user runs it (for SIGKILL tests). */
export function spawnSluice(job: string, settings: Record<string, string | number>, o: { stateDir: string; groupId: string }): SluiceChild {
  const args = [BIN, 'run', job, '--brokers', kafkaBrokers().join(','), '--state-dir', o.stateDir, '--output-dir', `${o.stateDir}-out`];
  args.push('--group-id', o.groupId, '--workers', '1', '--checkpoint-interval', '500', '--no-progress');
  for (const [k, v] of Object.entries(settings)) args.push('--set', `${k}=${v}`);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  registerCleanup(() => void child.kill('SIGKILL'));
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = once(child, 'exit').then(([code, signal]) => (code as number | null) ?? (signal as string));
  return { child, output: () => out, exited };
}

// ---- Kafka -------------------------------------------------------------------

export interface TopicRecord {
  key: string | null;
  value: unknown;
  timestamp: number;
  sluiceId: string | undefined;
}

/** Reads a topic from the beginning until `n` records arrived (or throws after timeoutMs). */
export async function readTopic(topic: string, n: number, timeoutMs = 60_000): Promise<TopicRecord[]> {
  const out: TopicRecord[] = [];
  const consumer = kafkaClient().consumer({ groupId: uniqueName('users-read') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push({
        key: message.key?.toString() ?? null,
        value: message.value ? JSON.parse(message.value.toString()) : null,
        timestamp: Number(message.timestamp),
        sluiceId: message.headers?.['sluice-id']?.toString(),
      });
    },
  });
  try {
    await waitFor(`${n} records in ${topic} (have ${out.length})`, () => out.length >= n, timeoutMs);
    await sleep(500); // anything beyond n would show up as a count mismatch in the test
    return [...out];
  } finally {
    await consumer.disconnect();
  }
}

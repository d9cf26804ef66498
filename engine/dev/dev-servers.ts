/**
 * The servers `sluice dev` runs: the same code the tests start them with
 * (engine/dev/servers/), on their conventional ports when free, and what a
 * job needs to reach each: environment lines and job settings.
 *
 * Settings go in SLUICE_DEV_SET, which `sluice run` applies only to jobs that
 * declare the setting (engine/cli/options.ts), so one env file serves every
 * job: `postgres=...` reaches users-raw-to-postgres and nothing else.
 */
import { installBigQueryEmulator } from './servers/bigquery-install.ts';
import { startBigQueryEmulator } from './servers/bigquery-emulator.ts';
import { installCassandra } from './servers/cassandra-install.ts';
import { startCassandra } from './servers/cassandra.ts';
import { installFerretDb } from './servers/ferretdb-install.ts';
import { startFerretDb } from './servers/ferretdb.ts';
import { installKafka } from './servers/kafka-install.ts';
import { startKafka } from './servers/kafka.ts';
import { requirePostgres, startPostgres } from './servers/postgres.ts';
import { installPrometheus } from './servers/prometheus-install.ts';
import { startPrometheus } from './servers/prometheus.ts';

export const DEV_SERVERS = ['kafka', 'cassandra', 'mongo', 'bigquery', 'postgres', 'prometheus'] as const;
export type DevServerName = (typeof DEV_SERVERS)[number];

/** A running server as `sluice dev` records it. */
export interface DevServerInfo {
  name: DevServerName;
  /** What it is, e.g. "Apache Kafka 3.9.1". */
  what: string;
  /** host:port it answers on. */
  address: string;
  /** A URL to show (web UI, endpoint), when there is one. */
  url?: string;
  /** The server's own process (a JVM, postgres, ...). */
  serverPid: number;
  /** Environment lines for `sluice run`: SLUICE_BROKERS and the like. */
  env: Record<string, string>;
  /** Job settings that point at it, for jobs that declare them. */
  settings: Record<string, string>;
}

export interface DevServerSpec {
  conventionalPort: number;
  what: string;
  /** Downloads or builds into the cache (a no-op once cached). */
  install(log: (m: string) => void): Promise<void>;
  start(o: { log: (m: string) => void; targetsDir: string }): Promise<{ info: DevServerInfo; stop(): Promise<void> }>;
}

const LOOPBACK = '127.0.0.1';
/** The project the wikipedia job writes to by default (its bigqueryProject setting). */
const BIGQUERY_PROJECT = 'sluice';

export const SPECS: Record<DevServerName, DevServerSpec> = {
  kafka: {
    conventionalPort: 9092,
    what: 'Apache Kafka 3.9.1 (KRaft, one node)',
    install: async (log) => void (await installKafka({ log })),
    async start({ log }) {
      const b = await startKafka({ port: 9092, log });
      return { info: { name: 'kafka', what: this.what, address: b.brokers, serverPid: b.pid, env: { SLUICE_BROKERS: b.brokers }, settings: {} }, stop: () => b.stop() };
    },
  },
  cassandra: {
    conventionalPort: 9042,
    what: 'Apache Cassandra 5.0.9 (one node)',
    install: async (log) => void (await installCassandra({ log })),
    async start({ log }) {
      const c = await startCassandra({ log });
      return { info: { name: 'cassandra', what: this.what, address: c.contactPoint, serverPid: c.pid, env: {}, settings: { cassandra: c.contactPoint } }, stop: () => c.stop() };
    },
  },
  mongo: {
    conventionalPort: 27017,
    what: 'FerretDB 1.24 (MongoDB wire protocol, SQLite)',
    install: async (log) => void (await installFerretDb({ log })),
    async start() {
      const f = await startFerretDb({ port: 27017 });
      return {
        info: { name: 'mongo', what: this.what, address: `${LOOPBACK}:${f.port}`, url: f.uri, serverPid: f.pid, env: { SLUICE_MONGO_URI: f.uri }, settings: { mongoUri: f.uri } },
        stop: () => f.stop(),
      };
    },
  },
  bigquery: {
    conventionalPort: 9050,
    what: `BigQuery emulator v0.8.1 (project "${BIGQUERY_PROJECT}", in memory)`,
    install: async (log) => void (await installBigQueryEmulator({ log })),
    async start({ log }) {
      const e = await startBigQueryEmulator({ projectId: BIGQUERY_PROJECT, port: 9050, log });
      const address = e.endpoint.replace(/^http:\/\//, '');
      return {
        info: { name: 'bigquery', what: this.what, address, url: e.endpoint, serverPid: e.pid, env: {}, settings: { bigqueryEndpoint: e.endpoint, bigqueryProject: BIGQUERY_PROJECT } },
        stop: () => e.stop(),
      };
    },
  },
  postgres: {
    conventionalPort: 5432,
    what: 'PostgreSQL (from the OS packages)',
    install: async () => void (await requirePostgres()),
    async start({ log }) {
      const pg = await startPostgres({ port: 5432, log });
      return {
        info: { name: 'postgres', what: `${pg.version}`, address: `${pg.host}:${pg.port}`, url: pg.url, serverPid: pg.pid, env: {}, settings: { postgres: pg.url } },
        stop: () => pg.stop(),
      };
    },
  },
  prometheus: {
    conventionalPort: 9090,
    what: 'Prometheus (Debian package), scraping every sluice run that uses the env file',
    install: async (log) => void (await installPrometheus({ log })),
    async start({ log, targetsDir }) {
      const p = await startPrometheus({ targets: [], fileSdDir: targetsDir, intervalSeconds: 5, port: 9090, readyTimeoutMs: 120_000, log });
      return {
        info: { name: 'prometheus', what: this.what, address: `${LOOPBACK}:${p.port}`, url: p.url, serverPid: p.pid, env: { SLUICE_PROMETHEUS_TARGETS_DIR: targetsDir }, settings: {} },
        stop: () => p.stop(),
      };
    },
  },
};

export function isDevServer(name: string): name is DevServerName {
  return (DEV_SERVERS as readonly string[]).includes(name);
}

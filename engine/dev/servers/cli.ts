/**
 * `node bin/servers.js kafka <install|start|stop|status>` (also `npm run kafka -- <cmd>`).
 * `node bin/servers.js prometheus install` (the tests start their own Prometheus).
 * `node bin/servers.js cassandra install` (jars into the cache; the tests start their own node).
 * `node bin/servers.js postgres check` (is PostgreSQL installed? the tests start their own cluster).
 * `node bin/servers.js bigquery install` (build the emulator into the cache; the tests start their own).
 * `node bin/servers.js ferretdb install` (build FerretDB into the cache; the tests start their own).
 * `node bin/servers.js chromium install` (Debian's chromium for the browser test; apt-get, idempotent).
 * `node bin/servers.js all install` (every one of the above, prerequisites checked first; the
 *  integration tests' global setup does the same before any test starts).
 *
 * `start` leaves the broker running in the background (detached) and prints
 * its bootstrap address; point tests at it with SLUICE_KAFKA_BROKERS to skip
 * the broker start in every `vitest` run.
 */
import { cacheRoot } from './cache.ts';
import { installKafka, kafkaHome } from './kafka-install.ts';
import { kafkaStatus, startKafka, stateFilePath, stopKafka } from './kafka.ts';
import { installPrometheus } from './prometheus-install.ts';
import { installCassandra } from './cassandra-install.ts';
import { requirePostgres } from './postgres.ts';
import { installBigQueryEmulator } from './bigquery-install.ts';
import { installFerretDb } from './ferretdb-install.ts';
import { installChromium } from './chromium.ts';
import { installAllServers } from './install-all.ts';

const USAGE = `usage: node bin/servers.js kafka <command>
       node bin/servers.js prometheus install
       node bin/servers.js cassandra install
       node bin/servers.js postgres check
       node bin/servers.js bigquery install
       node bin/servers.js ferretdb install
       node bin/servers.js chromium install
       node bin/servers.js all install

commands:
  install   download the Kafka jars into the cache (nothing else)
  start     start a single-node broker in the background, print its address
  stop      stop the broker started with 'start'
  status    show whether that broker runs and answers metadata requests

prometheus install: download Debian's prometheus package and unpack its binaries into the cache

cache: ${cacheRoot()} (set SLUICE_CACHE_DIR to move it)`;

const log = (message: string): void => console.log(message);

async function kafka(command: string | undefined): Promise<number> {
  switch (command) {
    case 'install': {
      const install = await installKafka({ log });
      console.log(install.downloaded ? `installed in ${secs(install.ms)}` : `already installed`);
      console.log(`jars: ${install.libsDir}`);
      return 0;
    }
    case 'start': {
      const status = await kafkaStatus();
      if (status.running && status.state) {
        console.log(`already running (pid ${status.state.pid}) at ${status.state.brokers}`);
        console.log(`export SLUICE_KAFKA_BROKERS=${status.state.brokers}`);
        return 0;
      }
      const broker = await startKafka({ detached: true, log });
      console.log(broker.brokers);
      console.log(`pid ${broker.pid}, data ${broker.dataDir}`);
      console.log(`logs: ${broker.dataDir}/logs (WARN and above)`);
      console.log(`to run the integration tests against it: export SLUICE_KAFKA_BROKERS=${broker.brokers}`);
      return 0;
    }
    case 'stop': {
      const { stopped } = await stopKafka({ log });
      if (stopped.length === 0) console.log('no broker was running');
      for (const state of stopped) {
        console.log(
          state.wasRunning
            ? `stopped pid ${state.pid} (${state.brokers})`
            : `pid ${state.pid} had already exited; removed its state file and data`,
        );
      }
      return 0;
    }
    case 'status': {
      const status = await kafkaStatus();
      if (!status.state) {
        console.log('stopped (no broker started with `kafka start`)');
        return 1;
      }
      const { pid, brokers, dataDir, startedAt } = status.state;
      if (!status.running) {
        console.log(`stopped (state file names pid ${pid}, which is not running: ${stateFilePath()})`);
        return 1;
      }
      console.log(status.reachable ? `running and answering at ${brokers}` : `running but not answering at ${brokers}: ${status.reason ?? ''}`);
      console.log(`pid ${pid}, started ${startedAt}, data ${dataDir}`);
      console.log(`jars: ${kafkaHome()}`);
      return status.reachable ? 0 : 1;
    }
    default:
      console.error(USAGE);
      return command === undefined || command === 'help' || command === '--help' ? 0 : 2;
  }
}

function secs(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}

async function main(argv: string[]): Promise<number> {
  const [server, command] = argv;
  if (server === 'all' && command === 'install') {
    const started = Date.now();
    await installAllServers({ log });
    console.log(`all servers installed in ${secs(Date.now() - started)}`);
    return 0;
  }
  if (server === 'prometheus' && command === 'install') {
    const install = await installPrometheus({ log });
    console.log(install.downloaded ? `installed Prometheus ${install.version} in ${secs(install.ms)}` : `already installed (${install.version})`);
    console.log(`binaries: ${install.prometheus}, ${install.promtool}`);
    return 0;
  }
  if (server === 'bigquery' && command === 'install') {
    const install = await installBigQueryEmulator({ log });
    console.log(install.built ? `built the BigQuery emulator ${install.version} in ${secs(install.ms)}` : `already built (${install.version})`);
    console.log(`binary: ${install.binary}`);
    return 0;
  }
  if (server === 'ferretdb' && command === 'install') {
    const install = await installFerretDb({ log });
    console.log(install.built ? `built FerretDB ${install.version} in ${secs(install.ms)}` : `already built (${install.version})`);
    console.log(`binary: ${install.binary}`);
    return 0;
  }
  if (server === 'chromium' && command === 'install') {
    const install = await installChromium({ log });
    console.log(install.installed ? `installed Chromium in ${secs(install.ms)}` : 'already installed');
    console.log(`binary: ${install.binary}`);
    return 0;
  }
  if (server === 'cassandra' && command === 'install') {
    const install = await installCassandra({ log });
    console.log(install.downloaded ? `installed Cassandra ${install.version} in ${secs(install.ms)}` : `already installed (${install.version})`);
    console.log(`jars: ${install.libsDir}`);
    return 0;
  }
  if (server === 'postgres' && command === 'check') {
    console.log(`PostgreSQL binaries: ${await requirePostgres()}`);
    return 0;
  }
  if (server !== 'kafka') {
    console.error(USAGE);
    return 2;
  }
  return kafka(command);
}

main(process.argv.slice(2)).then(
  (code) => (process.exitCode = code),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);

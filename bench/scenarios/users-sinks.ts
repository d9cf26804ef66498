/**
 * `npm run bench -- users-sinks`: the users pipeline's stores.
 *
 *   - Cassandra sink rows/s: the sink driver of users-to-cassandra writing
 *     created_users rows (the recorded users, made distinct) to a real local
 *     Cassandra 5.0, in deliveries of `epochRows` rows (one checkpoint epoch
 *     each), at several concurrency levels. Rows are mapped before timing:
 *     this is the sink, not the JSON decoding.
 *   - PostgreSQL sink rows/s: users-raw-to-postgres' sink, raw_users upserts.
 *   - Server start times: Cassandra cold (empty sluice cache, so the jars are
 *     copied from Maven; ~/.m2 may already hold them), warm (cached jars, new
 *     data dir), restart (existing data dir); PostgreSQL initdb + start.
 *
 * Both servers run on this machine, sharing its cores with the client, so
 * the figures are what a 2-core CI box does end to end, not server capacity.
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCassandraSinkDriver } from '../../engine/sinks/cassandra-sink.ts';
import { createPostgresSinkDriver } from '../../engine/sinks/postgres-sink.ts';
import type { SinkRecord } from '../../engine/contracts/sinks.ts';
import type { RandomUserResult } from '../../jobs/users/randomuser-schema.ts';
import { CREATED_USERS_COLUMNS, toCreatedUserRow, userId, type CreatedUserRow } from '../../jobs/users/user-row.ts';
import { createdUsersDdl } from '../../jobs/users-to-cassandra.ts';
import { startCassandra } from '../../engine/dev/servers/cassandra.ts';
import { startPostgres } from '../../engine/dev/servers/postgres.ts';
import { figure, log, timed, type Figure } from '../bench-harness.ts';
import type { Scenario, ScenarioOptions } from '../scenario.ts';

const DATA = new URL('../../test/fixtures/randomuser/', import.meta.url);
const FILES = ['randomuser_api_v1.3_results200_US_macksm3.json', 'randomuser_api_v1.4_results1_BR_codeacademyuz.json'];

function users(n: number): RandomUserResult[] {
  const base = FILES.flatMap((f) => (JSON.parse(readFileSync(new URL(f, DATA), 'utf8')) as { results: RandomUserResult[] }).results);
  return Array.from({ length: n }, (_, i) => {
    const u = structuredClone(base[i % base.length]);
    u.login.uuid = userId(`bench-${i}`);
    return u;
  });
}

function records(values: unknown[], epochRows: number): SinkRecord[][] {
  const out: SinkRecord[][] = [];
  const now = Date.now();
  for (let i = 0; i < values.length; i += epochRows) {
    out.push(values.slice(i, i + epochRows).map((value, k) => ({ id: `0-${out.length + 1}-${k}`, key: null, value, time: now })));
  }
  return out;
}

const ctx = (sinkId: string) => ({ job: 'bench', sinkId, workerId: 0, runtime: { brokers: [], stateDir: '', outputDir: '', embedded: true } });

export const usersSinksScenario: Scenario = {
  name: 'users-sinks',
  description: 'Cassandra and PostgreSQL sink rows/s (created_users, raw_users) on local servers, and their start times',
  defaults: { rows: 20_000, epochRows: 1000, runs: 3, concurrency: '8,32,128' },
  async run(o: ScenarioOptions) {
    const n = Number(o.rows);
    const runs = Number(o.runs);
    const figures: Figure[] = [];
    const notes: string[] = [];

    // Start times. Cold: a fresh cache dir, so the install step runs (Maven copies from ~/.m2 or downloads).
    const coldCache = await mkdtemp(join(tmpdir(), 'sluice-bench-cache-'));
    const cold = await startCassandra({ cacheDir: coldCache, log });
    await cold.stop();
    await rm(coldCache, { recursive: true, force: true });
    const warm = await startCassandra({ log });
    await warm.stop({ keepDataDir: true });
    const node = await startCassandra({ dataDir: warm.dataDir, ports: warm.ports, log });
    figures.push(figure({ server: 'cassandra', start: 'cold' }, 'start', 's', [cold.timings.totalMs / 1000]));
    figures.push(figure({ server: 'cassandra', start: 'cold' }, 'install', 's', [cold.timings.installMs / 1000]));
    figures.push(figure({ server: 'cassandra', start: 'warm' }, 'start', 's', [warm.timings.totalMs / 1000]));
    figures.push(figure({ server: 'cassandra', start: 'restart (existing data)' }, 'start', 's', [node.timings.totalMs / 1000]));
    notes.push(`cold start: ${cold.timings.downloaded ? 'jars copied into an empty sluice cache by Maven' : 'cache was not empty?'}; whether Maven downloaded or took them from ~/.m2 depends on the machine`);
    const pgStarts: number[] = [];
    let pgServer = await startPostgres({ log });
    pgStarts.push(pgServer.timings.totalMs / 1000);
    for (let i = 1; i < runs; i++) {
      await pgServer.stop();
      pgServer = await startPostgres({ log });
      pgStarts.push(pgServer.timings.totalMs / 1000);
    }
    figures.push(figure({ server: 'postgres', start: 'initdb + start' }, 'start', 's', pgStarts));

    try {
      const data = users(n);
      const rows = data.map((u) => toCreatedUserRow(u));
      const batches = records(rows, Number(o.epochRows));
      for (const conc of String(o.concurrency).split(',').map(Number)) {
        const rates: number[] = [];
        for (let r = 0; r < runs; r++) {
          const keyspace = `bench_${conc}_${r}`;
          const d = createCassandraSinkDriver({
            contactPoints: [node.contactPoint],
            keyspace,
            table: 'created_users',
            columns: CREATED_USERS_COLUMNS,
            key: ['id'],
            row: (v) => CREATED_USERS_COLUMNS.map((c) => (v as CreatedUserRow)[c]),
            setup: createdUsersDdl(keyspace, 'created_users', "{'class': 'SimpleStrategy', 'replication_factor': 1}"),
            concurrency: conc,
          });
          await d.open(ctx('rows'));
          const t = await timed(async () => {
            for (let e = 0; e < batches.length; e++) await d.deliver({ sinkId: 'rows', actorId: 'p0', partition: 0, epoch: e + 1, records: batches[e] });
          });
          if (d.stats.rows !== n) throw new Error(`cassandra sink wrote ${d.stats.rows} rows, expected ${n}`);
          await d.close();
          rates.push(n / t.wallS);
          log(`cassandra concurrency ${conc} run ${r + 1}: ${Math.round(n / t.wallS)} rows/s`);
        }
        figures.push(figure({ sink: 'cassandra', concurrency: conc, epochRows: Number(o.epochRows) }, 'rows/s', 'rows/s', rates));
      }

      const raw = records(data, Number(o.epochRows));
      const pgRates: number[] = [];
      for (let r = 0; r < runs; r++) {
        const table = `raw_users_bench_${r}`;
        const d = createPostgresSinkDriver({
          url: pgServer.url,
          table,
          columns: ['id', 'payload', 'ingested_at'],
          key: ['id'],
          row: (v, time) => [userId((v as RandomUserResult).login.uuid), JSON.stringify(v), new Date(time)],
          onConflict: { ingested_at: 'LEAST(t.ingested_at, EXCLUDED.ingested_at)' },
          setup: [`CREATE TABLE IF NOT EXISTS ${table} (id uuid PRIMARY KEY, payload jsonb NOT NULL, ingested_at timestamptz NOT NULL)`],
        });
        await d.open(ctx('raw'));
        const t = await timed(async () => {
          for (let e = 0; e < raw.length; e++) await d.deliver({ sinkId: 'raw', actorId: 'p0', partition: 0, epoch: e + 1, records: raw[e] });
        });
        await d.close();
        pgRates.push(n / t.wallS);
        log(`postgres run ${r + 1}: ${Math.round(n / t.wallS)} rows/s`);
      }
      figures.push(figure({ sink: 'postgres', epochRows: Number(o.epochRows) }, 'rows/s', 'rows/s', pgRates));
      notes.push('one sink driver (one worker thread) each; the servers share the 2 cores with the client; PostgreSQL runs with fsync off (test cluster)');
    } finally {
      await node.stop();
      await pgServer.stop();
    }
    return { settings: { ...o, cassandra: node.version, postgres: pgServer.version }, figures, notes };
  },
};

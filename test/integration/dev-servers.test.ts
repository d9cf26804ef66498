/**
 * `sluice dev up|status|down` with Kafka, PostgreSQL and Prometheus, as a user
 * runs it: the real CLI starts the servers in the background, they outlive it,
 * the env file it writes is what a later `sluice run` needs (brokers from
 * SLUICE_BROKERS, the postgres setting from SLUICE_DEV_SET), Prometheus
 * scrapes that run, its status page shows the consumer group, `status` shows
 * the servers, and `down` stops them and removes the env file. A state directory of
 * its own (SLUICE_DEV_DIR) keeps it apart from a developer's own `sluice dev`.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
// The engine's kafkajs patches before kafkajs itself: integration files share kafkajs's module cache (test/helpers/kafka.ts).
import '../../engine/kafka/kafkajs-fast-decode.ts';
import '../../engine/kafka/kafkajs-linear-grouping.ts';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../engine/dev/env-file.ts';
import { isProcessAlive } from '../../engine/dev/servers/process.ts';
import { runSluice, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';
import type { StatusReport } from '../../metrics/status.ts';
import { documentedShape, liveShape } from '../metrics/status-shape.ts';

const devDir = tempDir('sluice-dev-');
const envFile = join(tempDir(), 'dev.env');
const env = { SLUICE_DEV_DIR: devDir };

interface State {
  name: string;
  address: string;
  supervisorPid: number;
  serverPid: number;
}
const state = (name: string): State => JSON.parse(readFileSync(join(devDir, `${name}.json`), 'utf8')) as State;

describe('sluice dev with kafka, postgres and prometheus', () => {
  let up: { code: number | string; stdout: string; stderr: string };

  beforeAll(async () => {
    up = await runSluice(['dev', 'up', 'kafka', 'postgres', 'prometheus', '--env-out', envFile], env);
  });

  afterAll(async () => {
    // A failed assertion must not leave servers behind.
    if (['kafka', 'postgres', 'prometheus'].some((n) => existsSync(join(devDir, `${n}.json`)))) await runSluice(['dev', 'down', '--env-out', envFile], env);
  });

  it('starts both in the background, prints their addresses and writes the env file', () => {
    expect(up.stderr).toMatch(/kafka: ready at 127\.0\.0\.1:\d+/);
    expect(up.stderr).toMatch(/postgres: ready at 127\.0\.0\.1:\d+/);
    expect(up.stderr).toMatch(/prometheus: ready at 127\.0\.0\.1:\d+/);
    expect(up.code).toBe(0);
    const kafka = state('kafka');
    const postgres = state('postgres');
    // The CLI has exited; the supervisors and the servers it started have not.
    for (const s of [kafka, postgres, state('prometheus')]) {
      expect(isProcessAlive(s.supervisorPid)).toBe(true);
      expect(isProcessAlive(s.serverPid)).toBe(true);
    }
    expect(up.stdout).toContain(`env       SLUICE_BROKERS=${kafka.address}`);
    expect(up.stdout).toContain(`--set     postgres=postgres://postgres@${postgres.address}/postgres`);
    const vars = parseEnvFile(readFileSync(envFile, 'utf8'));
    expect(vars).toEqual({
      SLUICE_BROKERS: kafka.address,
      SLUICE_PROMETHEUS_TARGETS_DIR: join(devDir, 'targets'),
      SLUICE_DEV_SET: `postgres=postgres://postgres@${postgres.address}/postgres`,
    });
  });

  it('status shows them up', async () => {
    const r = await runSluice(['dev', 'status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^kafka +up +${state('kafka').address.replaceAll('.', '\\.')}`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^postgres +up +${state('postgres').address.replaceAll('.', '\\.')}`, 'm'));
  });

  it('a sluice run with the env file, and no other address, reads Kafka into PostgreSQL, is scraped, and its page shows the group', async () => {
    const brokers = state('kafka').address;
    const kafka = new Kafka({ brokers: [brokers], clientId: 'dev-test', logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'users_created', numPartitions: 2 }], waitForLeaders: true });
    await admin.disconnect();
    const producer = kafka.producer();
    await producer.connect();
    const uuids = ['0b5c7b0e-6d3e-4a8e-9d56-2f1b8a6c1e01', '0b5c7b0e-6d3e-4a8e-9d56-2f1b8a6c1e02', '0b5c7b0e-6d3e-4a8e-9d56-2f1b8a6c1e03'];
    await producer.send({ topic: 'users_created', messages: uuids.map((u) => ({ key: u, value: JSON.stringify({ login: { uuid: u }, name: { first: 'Ada' } }) })) });
    await producer.disconnect();

    const job = startSluice(['run', 'users-raw-to-postgres', '--env-from', envFile, '--workers', '1', '--state-dir', tempDir(), '--no-progress'], env);
    const client = new pg.Client({ connectionString: `postgres://postgres@${state('postgres').address}/postgres` });
    await client.connect();
    try {
      await waitFor('three rows in raw_users', async () => {
        const t = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_tables WHERE tablename = 'raw_users'");
        if (t.rows[0].n === '0') return false;
        return (await client.query<{ n: string }>('SELECT count(*) AS n FROM raw_users')).rows[0].n === '3';
      }, 120_000, 500);
      expect(job.stderr()).toContain(`settings from ${envFile}`);

      // Its status page: the consumer group with this process in it, owning every partition.
      const base = /status page at (http:\/\/127\.0\.0\.1:\d+)\//.exec(job.stderr())![1];
      let doc: StatusReport | undefined;
      await waitFor('the group on the status page', async () => {
        doc = (await (await fetch(`${base}/api/status`)).json()) as StatusReport;
        // The lag comes from the group's committed offsets, which follow the
        // checkpoint that delivered the rows: wait for it to reach 0 too.
        return doc.group?.members.length === 1 && doc.partitions.every((p) => p.local && p.lagRecords === 0);
      });
      const me = doc!.process.clientId!;
      expect(doc!.group!.members).toEqual([{ clientId: me, host: expect.any(String), partitions: [0, 1], self: true }]);
      expect(doc!.partitions.map((p) => [p.owner, p.lagRecords])).toEqual([[me, 0], [me, 0]]);
      // The group's fields are the documented ones (the embedded test cannot see them).
      const documented = documentedShape();
      for (const [path, types] of liveShape(doc, new Set(['totals.recordsOut', 'deadLetters.byReason']))) {
        expect(documented.has(path), `${path} is not in docs/status-api.md`).toBe(true);
        for (const t of types) expect(documented.get(path), `${path}: type ${t}`).toContain(t);
      }

      // Prometheus found it through the target file the run wrote, and scrapes it.
      const prom = `http://${state('prometheus').address}`;
      await waitFor('Prometheus scraping the run', async () => {
        const q = (await (await fetch(`${prom}/api/v1/query?query=${encodeURIComponent('up{sluice_job="users-raw-to-postgres"} == 1')}`)).json()) as { data: { result: unknown[] } };
        return q.data.result.length === 1;
      }, 120_000, 1000);
    } finally {
      await client.end();
      job.child.kill('SIGTERM');
      expect(await job.exited).toBe(0);
    }
    // The run took its target file with it.
    expect(readdirSync(join(devDir, 'targets'))).toEqual([]);
  });

  it('down stops them all and removes the env file', async () => {
    const pids = [state('kafka'), state('postgres'), state('prometheus')].flatMap((s) => [s.supervisorPid, s.serverPid]);
    const r = await runSluice(['dev', 'down', '--env-out', envFile], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kafka: stopped/);
    expect(r.stdout).toMatch(/postgres: stopped/);
    expect(r.stdout).toMatch(/prometheus: stopped/);
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(join(devDir, 'kafka.json'))).toBe(false);
    const s = await runSluice(['dev', 'status'], env);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain('no sluice dev server is running');
  });
});

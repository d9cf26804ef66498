/**
 * `sluice dev up|status|down` with Kafka and PostgreSQL, as a user runs it:
 * the real CLI starts the servers in the background, they outlive it, the
 * env file it writes is what a later `sluice run` needs (brokers from
 * SLUICE_BROKERS, the postgres setting from SLUICE_DEV_SET), `status` shows
 * them, and `down` stops them and removes the env file. A state directory of
 * its own (SLUICE_DEV_DIR) keeps it apart from a developer's own `sluice dev`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../engine/dev/env-file.ts';
import { isProcessAlive } from '../../engine/dev/servers/process.ts';
import { runSluice, startSluice, waitFor } from '../helpers/sluice-process.ts';
import { tempDir } from '../helpers/temp.ts';

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

describe('sluice dev with kafka and postgres', () => {
  let up: { code: number | string; stdout: string; stderr: string };

  beforeAll(async () => {
    up = await runSluice(['dev', 'up', 'kafka', 'postgres', '--env-out', envFile], env);
  });

  afterAll(async () => {
    // A failed assertion must not leave servers behind.
    if (existsSync(join(devDir, 'kafka.json')) || existsSync(join(devDir, 'postgres.json'))) await runSluice(['dev', 'down', '--env-out', envFile], env);
  });

  it('starts both in the background, prints their addresses and writes the env file', () => {
    expect(up.stderr).toMatch(/kafka: ready at 127\.0\.0\.1:\d+/);
    expect(up.stderr).toMatch(/postgres: ready at 127\.0\.0\.1:\d+/);
    expect(up.code).toBe(0);
    const kafka = state('kafka');
    const postgres = state('postgres');
    // The CLI has exited; the supervisors and the servers it started have not.
    for (const s of [kafka, postgres]) {
      expect(isProcessAlive(s.supervisorPid)).toBe(true);
      expect(isProcessAlive(s.serverPid)).toBe(true);
    }
    expect(up.stdout).toContain(`env       SLUICE_BROKERS=${kafka.address}`);
    expect(up.stdout).toContain(`--set     postgres=postgres://postgres@${postgres.address}/postgres`);
    const vars = parseEnvFile(readFileSync(envFile, 'utf8'));
    expect(vars).toEqual({ SLUICE_BROKERS: kafka.address, SLUICE_DEV_SET: `postgres=postgres://postgres@${postgres.address}/postgres` });
  });

  it('status shows both up', async () => {
    const r = await runSluice(['dev', 'status'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^kafka +up +${state('kafka').address.replaceAll('.', '\\.')}`, 'm'));
    expect(r.stdout).toMatch(new RegExp(`^postgres +up +${state('postgres').address.replaceAll('.', '\\.')}`, 'm'));
  });

  it('a sluice run with the env file, and no other address, reads Kafka into PostgreSQL', async () => {
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
    } finally {
      await client.end();
      job.child.kill('SIGTERM');
      expect(await job.exited).toBe(0);
    }
  });

  it('down stops both and removes the env file', async () => {
    const pids = [state('kafka'), state('postgres')].flatMap((s) => [s.supervisorPid, s.serverPid]);
    const r = await runSluice(['dev', 'down', '--env-out', envFile], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/kafka: stopped/);
    expect(r.stdout).toMatch(/postgres: stopped/);
    for (const pid of pids) expect(isProcessAlive(pid)).toBe(false);
    expect(existsSync(envFile)).toBe(false);
    expect(existsSync(join(devDir, 'kafka.json'))).toBe(false);
    const s = await runSluice(['dev', 'status'], env);
    expect(s.code).toBe(1);
    expect(s.stdout).toContain('no sluice dev server is running');
  });
});

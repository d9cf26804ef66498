/**
 * `import 'sluice'` loads no database or file-format driver: each one loads
 * only when the job imports the subpath that needs it. Checked in a child
 * process whose loader hook records every module it loads, on the sources
 * (the `sluice-source` export condition; test/package/ runs the built package).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const RECORDER = fileURLToPath(new URL('./fixtures/record-loads.mjs', import.meta.url));

/** The driver packages, and the subpath that may load each. */
const DRIVERS: Record<string, string> = {
  mongodb: 'sluice/sinks/mongo',
  'cassandra-driver': 'sluice/sinks/cassandra',
  pg: 'sluice/sinks/postgres',
  '@google-cloud/bigquery': 'sluice/sinks/bigquery',
  'hyparquet-writer': 'sluice/sinks/parquet',
  ajv: 'sluice/schema',
};

/**
 * Imports `specifiers` one after another in a fresh process (by package name, as a user's job does)
 * and returns, for each, the driver packages that were loaded by the time its import finished.
 */
async function driversAfter(specifiers: string[]): Promise<Record<string, string[]>> {
  const log = join(tempDir(), 'loads.txt');
  const script = `
    import { appendFileSync } from 'node:fs';
    for (const s of ${JSON.stringify(specifiers)}) {
      await import(s);
      appendFileSync(process.env.SLUICE_LOAD_LOG, '#imported ' + s + '\\n');
    }`;
  await promisify(execFile)(process.execPath, ['--conditions=sluice-source', '--import', 'tsx', '--import', RECORDER, '--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, SLUICE_LOAD_LOG: log },
  });
  const out: Record<string, string[]> = {};
  const loaded = new Set<string>();
  for (const line of readFileSync(log, 'utf8').split('\n')) {
    if (line.startsWith('#imported ')) out[line.slice('#imported '.length)] = [...loaded].sort();
    for (const d of Object.keys(DRIVERS)) if (line.includes(`/node_modules/${d}/`)) loaded.add(d);
  }
  return out;
}

describe('drivers load on demand', () => {
  it("import 'sluice' loads none of them; each subpath loads its own", async () => {
    const subpaths = Object.values(DRIVERS);
    const after = await driversAfter(['sluice', ...subpaths, 'sluice/sources/sse', 'sluice/sources/http-poll']);
    expect(after.sluice).toEqual([]);
    // Each subpath adds exactly its own driver to what the earlier imports loaded.
    const expected: string[] = [];
    for (const [driver, subpath] of Object.entries(DRIVERS)) {
      expected.push(driver);
      expect(after[subpath], subpath).toEqual([...expected].sort());
    }
    expect(after['sluice/sources/http-poll']).toEqual([...expected].sort());
  });
});

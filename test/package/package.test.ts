/**
 * The package as a user gets it. `npm pack` builds dist/ (prepack) and packs
 * it; the tarball is installed into two fresh projects, one made by
 * `npm init -y` (CommonJS) and one with `"type": "module"`. In each, a job
 * of the user's own (test/fixtures/package/job.ts, the one of the guide
 * docs/write-your-own-job.md: an interval join, a window, the file sink and
 * the MongoDB sink, imported from `sluice` by name)
 * is type-checked under a strict tsconfig, run with `npx sluice run ./job.ts`
 * on its embedded sources and its output checked, and the user's own test of
 * it (job-test.ts) is run by vitest through `sluice/testing`. Small jobs in
 * every other format (.mts, .cts, .mjs, .cjs, .js) run too, and one that does
 * not compile exits 2 with the compiler's message once.
 *
 * Installs use the npm cache first (--prefer-offline) and the registry for
 * what it lacks. The tarball's size and file count, and each project's
 * timings, are printed.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers/temp.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../fixtures/package/', import.meta.url));
const exec = promisify(execFile);

/** The versions the repository itself uses: in the npm cache already, so the installs need no download. */
function devVersion(name: string): string {
  return (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

async function run(cmd: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string; ms: number }> {
  const t0 = performance.now();
  try {
    const r = await exec(cmd, args, { cwd, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' } });
    return { ...r, ms: performance.now() - t0 };
  } catch (err) {
    const e = err as Error & { stdout?: string; stderr?: string };
    throw new Error(`${cmd} ${args.join(' ')} failed in ${cwd}:\n${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err });
  }
}

/** JSON-lines files under dir/<sink>/part-*, parsed, in file order (none if the sink never wrote). */
function sinkLines<T>(dir: string, sink: string): T[] {
  const out: T[] = [];
  const base = join(dir, sink);
  if (!existsSync(base)) return out;
  for (const part of readdirSync(base).sort()) {
    for (const f of readdirSync(join(base, part)).sort()) {
      for (const line of readFileSync(join(base, part, f), 'utf8').split('\n')) if (line) out.push(JSON.parse(line) as T);
    }
  }
  return out;
}

/**
 * A strict tsconfig as `tsc --init` writes it, less what does not fit every project (its
 * verbatimModuleSyntax rejects `import` in a CommonJS project's .ts files). The ESM project also
 * checks every declaration file (skipLibCheck false): the package's .d.ts must compile against its
 * dependencies' own; that costs some 20 s, so the CommonJS project keeps tsc's default.
 */
function strictTsconfig(checkLibs: boolean): object {
  return {
    compilerOptions: {
      strict: true,
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      noEmit: true,
      types: ['node'],
      skipLibCheck: !checkLibs,
    },
  };
}

const ORDERS = 60;

/** A small job module in each format a project of `type` can hold, by file name. */
function formatJobs(type: 'commonjs' | 'module'): Record<string, string> {
  const body = (name: string) => `{
  name: '${name}',
  sources: { n: generatorSource({ partitions: 1, count: 3, generate: (_p: number, i: number) => ({ i }) }) },
  sinks: { out: fileSink({ dir: 'out' }) },
  pipeline(b: PipelineBuilder) { b.source<{ i: number }>('n').map((x) => ({ twice: x.i * 2 })).to('out'); },
}`;
  const esmTs = (name: string) => `import { defineJob, fileSink, generatorSource, type PipelineBuilder } from 'sluice';\nexport default defineJob(${body(name)});\n`;
  const js = (name: string) => body(name).replace('<{ i: number }>', '').replace(/: (number|PipelineBuilder)/g, '');
  const esmJs = (name: string) => `import { defineJob, fileSink, generatorSource } from 'sluice';\nexport default defineJob(${js(name)});\n`;
  const cjsJs = (name: string) => `const { defineJob, fileSink, generatorSource } = require('sluice');\nmodule.exports = defineJob(${js(name)});\n`;
  return {
    'f-mts.mts': esmTs('f-mts'),
    'f-cts.cts': esmTs('f-cts'),
    'f-mjs.mjs': esmJs('f-mjs'),
    'f-cjs.cjs': cjsJs('f-cjs'),
    'f-js.js': type === 'module' ? esmJs('f-js') : cjsJs('f-js'),
  };
}

let tarball = '';

describe('the packed package, installed into fresh projects', () => {
  beforeAll(async () => {
    const dest = tempDir('sluice-pack-');
    const t0 = performance.now();
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest], ROOT);
    const [info] = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string; size: number; unpackedSize: number; entryCount: number; files: Array<{ path: string }> }>;
    tarball = join(dest, info.filename);
    console.log(
      `npm pack: ${info.filename} ${(info.size / 1024).toFixed(1)} kB packed, ${(info.unpackedSize / 1024).toFixed(1)} kB unpacked, ` +
        `${info.entryCount} files, ${((performance.now() - t0) / 1000).toFixed(1)} s (with the build)`,
    );
    const paths = info.files.map((f) => f.path);
    // Nothing of the repository's own tests, benchmarks or CI; the compiled API with its declarations.
    expect(paths.filter((p) => /(^|\/)(test|tests|bench|\.ci)\/|\.test\.|\.bench\./.test(p))).toEqual([]);
    expect(paths.filter((p) => p.endsWith('.ts') && !p.endsWith('.d.ts'))).toEqual([]);
    for (const p of ['dist/api/index.js', 'dist/api/index.d.ts', 'dist/api/sinks/mongo.d.ts', 'dist/api/testing.js', 'dist/cli/sluice.js', 'bin/sluice.js']) {
      expect(paths).toContain(p);
    }
  }, 600_000);

  for (const type of ['commonjs', 'module'] as const) {
    it(`a "type": "${type}" project type-checks the job, runs it with npx sluice, and tests it with vitest through sluice/testing`, async () => {
      const dir = join(tempDir('sluice-user-'), `user-${type}`);
      mkdirSync(dir);
      const timings: string[] = [];
      const step = async (name: string, cmd: string, args: string[]): Promise<string> => {
        const r = await run(cmd, args, dir);
        timings.push(`${name} ${(r.ms / 1000).toFixed(1)} s`);
        return r.stdout + r.stderr;
      };
      await step('init', 'npm', ['init', '-y']);
      if (type === 'module') await step('type', 'npm', ['pkg', 'set', 'type=module']);
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { type?: string };
      expect(pkg.type ?? 'commonjs').toBe(type);
      await step('install', 'npm', [
        'install',
        '--prefer-offline',
        '--no-audit',
        '--no-fund',
        tarball,
        `typescript@${devVersion('typescript')}`,
        `@types/node@${devVersion('@types/node')}`,
        `vitest@${devVersion('vitest')}`,
      ]);
      copyFileSync(join(FIXTURES, 'job.ts'), join(dir, 'job.ts'));
      copyFileSync(join(FIXTURES, 'job-test.ts'), join(dir, 'job.test.ts'));
      writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify(strictTsconfig(type === 'module'), null, 2));

      // The job and its test against the package's declarations, under strict settings.
      await step('tsc', 'npx', ['tsc', '-p', '.']);

      const out = join(dir, 'out');
      const summary = await step('sluice run', 'npx', ['sluice', 'run', './job.ts', '--output-dir', out, '--state-dir', join(dir, 'state'), '--workers', '2']);
      expect(summary).toMatch(new RegExp(`records in:\\s+${2 * ORDERS}\\b`));
      const orders = Array.from({ length: ORDERS }, (_, n) => n);
      const joined = sinkLines<{ orderId: string; status: string; paid: number | null }>(out, 'orders');
      const ids = (status: string): string[] => joined.filter((j) => j.status === status).map((j) => j.orderId).sort();
      expect(joined).toHaveLength(ORDERS);
      expect(ids('paid')).toEqual(orders.filter((n) => n % 3 !== 0).map((n) => `o${n}`).sort());
      expect(ids('unpaid')).toEqual(orders.filter((n) => n % 3 === 0).map((n) => `o${n}`).sort());
      // Paid revenue per ten seconds of payment time (order n's payment at n s + 0.5 s), summed over the two partitions.
      const perWindow = new Map<string, { orders: number; revenue: number }>();
      for (const w of sinkLines<{ start: string; orders: number; revenue: number }>(out, 'revenue')) {
        const acc = perWindow.get(w.start) ?? { orders: 0, revenue: 0 };
        perWindow.set(w.start, { orders: acc.orders + w.orders, revenue: acc.revenue + w.revenue });
      }
      const expected = new Map<string, { orders: number; revenue: number }>();
      for (const n of orders.filter((x) => x % 3 !== 0)) {
        const start = new Date(Date.UTC(2026, 0, 1) + Math.floor(n / 10) * 10_000).toISOString();
        const acc = expected.get(start) ?? { orders: 0, revenue: 0 };
        expected.set(start, { orders: acc.orders + 1, revenue: acc.revenue + 10 + (n % 7) });
      }
      expect(Object.fromEntries(perWindow)).toEqual(Object.fromEntries(expected));
      expect(sinkLines(out, 'late_payments')).toEqual([]);

      // Every module format the project can hold loads (TypeScript through tsx, JavaScript as it is).
      for (const [file, source] of Object.entries(formatJobs(type))) {
        mkdirSync(join(dir, 'formats'), { recursive: true });
        writeFileSync(join(dir, 'formats', file), source);
        const fout = join(dir, 'formats-out', file);
        await step(file, 'npx', ['sluice', 'run', `./formats/${file}`, '--output-dir', fout, '--state-dir', join(dir, 'formats-state', file), '--workers', '1']);
        expect(sinkLines<{ twice: number }>(fout, 'out').map((r) => r.twice), file).toEqual([0, 2, 4]);
      }
      // A module that does not compile: exit 2, the compiler's message once.
      writeFileSync(join(dir, 'formats', 'broken.ts'), "import { defineJob } from 'sluice';\nexport default defineJob({ name: 'x', sources: {}, sinks: {}, pipeline() { const = 1; } });\n");
      const broken = await exec('npx', ['sluice', 'run', './formats/broken.ts'], { cwd: dir }).then(
        () => ({ code: 0, stderr: '' }),
        (e: { code: number; stderr: string }) => e,
      );
      expect(broken.code, broken.stderr).toBe(2);
      expect(broken.stderr.split('Expected identifier but found "="').length - 1, broken.stderr).toBe(1);

      const tested = await step('vitest', 'npx', ['vitest', 'run']);
      expect(tested).toMatch(/Tests\s+1 passed/);
      console.log(`"type": "${type}" project: ${timings.join(', ')}`);
    }, 600_000);
  }
});

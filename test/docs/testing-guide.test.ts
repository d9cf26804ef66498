/**
 * docs/testing.md stays true: its example job and test are extracted,
 * type-checked, and the test is run by vitest as a user would run it, with
 * the `sluice` imports pointed at this checkout's sources.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const guide = readFileSync(join(ROOT, 'docs/testing.md'), 'utf8');

/** The ```ts block whose first line is `// <name>`. */
function block(name: string): string {
  const m = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((x) => x[1]).find((b) => b.startsWith(`// ${name}\n`));
  if (!m) throw new Error(`docs/testing.md has no \`\`\`ts block starting with // ${name}`);
  return m;
}

/** The code with the package's specifiers pointed at the sources (the package's own exports map does that for an installed package). */
function local(code: string): string {
  return code
    .replaceAll("from 'sluice/testing/fast-check'", `from '${ROOT}api/testing-fast-check.ts'`)
    .replaceAll("from 'sluice/testing'", `from '${ROOT}api/testing.ts'`)
    .replaceAll("from 'sluice'", `from '${ROOT}api/index.ts'`)
    .replaceAll("from './clicks.js'", "from './clicks.ts'");
}

// Inside the checkout (in the ignored .sluice/), so the example resolves vitest and fast-check as a user's project does.
mkdirSync(join(ROOT, '.sluice'), { recursive: true });
const dir = mkdtempSync(join(ROOT, '.sluice', 'testing-guide-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('docs/testing.md', () => {
  const files = { 'clicks.ts': local(block('clicks.ts')), 'clicks.test.ts': local(block('clicks.test.ts')) };
  for (const [f, code] of Object.entries(files)) writeFileSync(join(dir, f), code);
  // Its own config: vitest would otherwise take this repository's, found by walking up.
  writeFileSync(join(dir, 'vitest.config.mjs'), "export default { test: { include: ['*.test.ts'] } };\n");

  it('its example type-checks under the project\'s strict options', () => {
    const parsed = ts.getParsedCommandLineOfConfigFile(join(ROOT, 'tsconfig.json'), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!;
    const program = ts.createProgram(Object.keys(files).map((f) => join(dir, f)), { ...parsed.options, noEmit: true });
    const diags = Object.keys(files).flatMap((f) => ts.getPreEmitDiagnostics(program, program.getSourceFile(join(dir, f))));
    expect(diags.map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)).toEqual([]);
  });

  it('its example test passes under vitest', { timeout: 240_000 }, async () => {
    const report = join(dir, 'report.json');
    const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
    // A failing test exits non-zero: the report says which, and why.
    const stderr = await promisify(execFile)(process.execPath, [vitest, 'run', '--root', dir, '--reporter=json', `--outputFile=${report}`], { cwd: dir }).then(
      () => '',
      (err: Error & { stderr?: string }) => `${err.message}\n${err.stderr ?? ''}`,
    );
    const r = JSON.parse(readFileSync(report, 'utf8')) as {
      numTotalTests: number;
      numPassedTests: number;
      testResults: Array<{ message?: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
    };
    const results = r.testResults.flatMap((t) => [t.message ?? '', ...t.assertionResults.map((a) => `${a.status} ${a.title} ${a.failureMessages.join('\n')}`)]);
    expect(r.numPassedTests, `${results.join('\n')}\n${stderr}`).toBe(r.numTotalTests);
    // Every test of the example ran: 5 plus one per crash point.
    expect(r.numTotalTests).toBe(9);
  });
});

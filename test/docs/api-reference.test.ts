/**
 * The API reference (docs/api/) lists every export of every subpath of the
 * package, on that subpath's page, and its index names every subpath; the
 * guide's code is the code the packaging test runs (test/fixtures/package/).
 * Exports are read with the TypeScript compiler, types included.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string): string => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

const exportsMap = (JSON.parse(read('package.json')) as { exports: Record<string, string | Record<string, string>> }).exports;
/** Subpath (`sluice`, `sluice/sinks/mongo`, ...) -> its source module. */
const subpaths = Object.entries(exportsMap)
  .filter(([k, v]) => k !== './package.json' && typeof v === 'object')
  .map(([k, v]) => ({ name: k === '.' ? 'sluice' : `sluice/${k.slice(2)}`, file: (v as Record<string, string>)['sluice-source'].slice(2) }));

/** The reference page of a subpath. */
function page(subpath: string): string {
  const first = subpath.split('/')[1];
  if (first === undefined) return 'docs/api/sluice.md';
  return `docs/api/${first}.md`;
}

function exportNames(files: string[]): Map<string, string[]> {
  const parsed = ts.getParsedCommandLineOfConfigFile(`${ROOT}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} });
  const program = ts.createProgram(files.map((f) => `${ROOT}${f}`), parsed!.options);
  const checker = program.getTypeChecker();
  const out = new Map<string, string[]>();
  for (const f of files) {
    const module = checker.getSymbolAtLocation(program.getSourceFile(`${ROOT}${f}`)!)!;
    out.set(f, checker.getExportsOfModule(module).map((s) => s.name));
  }
  return out;
}

describe('API reference', () => {
  it('lists every export of every subpath on its page', () => {
    const names = exportNames(subpaths.map((s) => s.file));
    const missing: string[] = [];
    for (const s of subpaths) {
      const text = read(page(s.name));
      expect(text, `${page(s.name)} has no section for ${s.name}`).toContain(`\`${s.name}\``);
      const exported = names.get(s.file)!;
      expect(exported.length, s.file).toBeGreaterThan(0);
      for (const n of exported) if (!new RegExp(`\`${n}[\`(<,]`).test(text)) missing.push(`${s.name}: ${n} (${page(s.name)})`);
    }
    expect(missing, 'exports missing from docs/api/').toEqual([]);
  });

  it('its index names every subpath', () => {
    const index = read('docs/api/README.md');
    for (const s of subpaths) expect(index).toContain(`| \`${s.name}\` |`);
  });

  it("the guide's job and test are the ones the packaging test runs", () => {
    const guide = read('docs/write-your-own-job.md');
    const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]);
    expect(blocks).toContain(read('test/fixtures/package/job.ts'));
    expect(blocks).toContain(read('test/fixtures/package/job-test.ts'));
  });
});

/**
 * A user's clone has nothing beside it: no code, test, benchmark or job may
 * read outside the repository (the team's sample data once lived in a
 * folder beside the clone; its recordings are now in test/fixtures/). This test scans
 * every tracked source file for paths that climb above the repository root:
 * relative string literals ('../../x', new URL('../x', import.meta.url)),
 * path.join/resolve chains of '..' segments, and the old folder's names.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '..');

function trackedSources(): string[] {
  const out = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.mts', '*.cts', '*.js', '*.mjs', '*.cjs', '*.json', '*.sh', '.ci/*'], { cwd: root, encoding: 'utf8' });
  return out.split('\0').filter((f) => f !== '' && !f.startsWith('node_modules/') && !f.endsWith('package-lock.json'));
}

/** The places in `text` (a file at `file`, relative to the root) that point above the root. */
export function escapes(file: string, text: string): string[] {
  const found: string[] = [];
  const dir = dirname(join(root, file));
  const outside = (p: string): boolean => relative(root, resolve(dir, p)).startsWith('..');
  // String literals made of '../' steps: import specifiers, URLs, paths.
  for (const m of text.matchAll(/(['"`])((?:\.\.\/)+[^'"`\n]*)\1/g)) {
    if (outside(m[2])) found.push(m[0]);
  }
  // join(import.meta.dirname, '..', '..', ...) and resolve(...) chains.
  for (const m of text.matchAll(/(?:join|resolve)\(\s*(?:import\.meta\.dirname|__dirname)((?:\s*,\s*['"][^'"]*['"])+)/g)) {
    const parts = [...m[1].matchAll(/['"]([^'"]*)['"]/g)].map((p) => p[1]);
    if (outside(join(...parts))) found.push(m[0]);
  }
  for (const m of text.matchAll(/shared\/data|SLUICE_SHARED_DATA|\/work\/shared/g)) found.push(m[0]);
  return found;
}

describe('the repository is self-contained', () => {
  it('finds a path that climbs out (the check itself can fail)', () => {
    expect(escapes('test/helpers/x.ts', "const d = join(import.meta.dirname, '..', '..', '..', 'shared', 'data');")).toHaveLength(1);
    const up = '../';
    expect(escapes('bench/x.ts', `new URL('${up}${up}shared/x.json', import.meta.url)`)).toHaveLength(1);
    expect(escapes('test/helpers/x.ts', "import { a } from '../../engine/errors.ts';")).toEqual([]);
    expect(escapes('test/helpers/x.ts', "const d = join(import.meta.dirname, '..', 'fixtures');")).toEqual([]);
  });

  it('no tracked source file reads outside the repository', () => {
    const offenders: string[] = [];
    for (const file of trackedSources()) {
      if (file === 'test/repository-self-contained.test.ts') continue;
      for (const hit of escapes(file, readFileSync(join(root, file), 'utf8'))) offenders.push(`${file}: ${hit}`);
    }
    expect(offenders).toEqual([]);
  });
});

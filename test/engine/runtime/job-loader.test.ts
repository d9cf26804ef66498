/**
 * How `sluice run <path>` reports a job module that does not load: one that
 * does not compile exits 2 with the compiler's message, printed once; a path
 * that does not exist exits 3. (test/package/ runs the module formats against
 * the installed package.)
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runSluice } from '../../helpers/sluice-process.ts';
import { tempDir } from '../../helpers/temp.ts';

const occurrences = (text: string, part: string): number => text.split(part).length - 1;

describe('job module loading', () => {
  it('a TypeScript job that does not compile exits 2 and prints the compiler message once', async () => {
    const job = join(tempDir(), 'broken-job.ts');
    writeFileSync(job, "export default {\n  name: 'broken',\n  pipeline(b: unknown) { const = 1; },\n};\n");
    const r = await runSluice(['run', job, '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('does not compile');
    expect(occurrences(r.stderr, 'Expected identifier but found "="')).toBe(1);
    expect(r.stderr).toContain('broken-job.ts:3:');
  });

  it('a JavaScript ES module that does not compile exits 2 and says where', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
    writeFileSync(join(dir, 'broken-job.js'), "export default {\n  name: 'broken' +\n};\n");
    const r = await runSluice(['run', join(dir, 'broken-job.js'), '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(r.code, r.stderr).toBe(2);
    expect(occurrences(r.stderr, "SyntaxError: Unexpected token '}'")).toBe(1);
    expect(r.stderr).toContain('broken-job.js:3');
  });

  it('a module that throws while it loads exits 2; a path that does not exist exits 3', async () => {
    const job = join(tempDir(), 'throws.mjs');
    writeFileSync(job, "throw new Error('no config for this job');\n");
    const r = await runSluice(['run', job, '--state-dir', tempDir(), '--output-dir', tempDir()]);
    expect(r.code, r.stderr).toBe(2);
    expect(occurrences(r.stderr, 'no config for this job')).toBe(1);
    const missing = await runSluice(['run', join(tempDir(), 'nope.ts')]);
    expect(missing.code, missing.stderr).toBe(3);
    expect(missing.stderr).toContain('job module not found');
  });
});

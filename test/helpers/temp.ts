/** Temporary directories that remove themselves when the test file finishes. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const made: string[] = [];
let hooked = false;

export function tempDir(prefix = 'sluice-test-'): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  made.push(d);
  if (!hooked) {
    hooked = true;
    afterAll(() => {
      for (const x of made.splice(0)) rmSync(x, { recursive: true, force: true });
    });
  }
  return d;
}

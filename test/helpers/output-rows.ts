/** What a job wrote through a file sink, for comparing with the rows a test expects. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Every row a file sink wrote under `<outputDir>/<dir>` (one folder per partition, JSON lines), parsed. */
export function readOutputRows(outputDir: string, dir: string): unknown[] {
  const rows: unknown[] = [];
  const root = join(outputDir, dir);
  for (const part of readdirSync(root)) {
    for (const f of readdirSync(join(root, part)).filter((n) => n.endsWith('.jsonl'))) {
      for (const line of readFileSync(join(root, part, f), 'utf8').split('\n')) if (line) rows.push(JSON.parse(line));
    }
  }
  return rows;
}

/** Rows as sorted JSON with sorted keys: equal multisets compare equal whatever the order of rows or fields. */
export function canonicalRows(rows: readonly unknown[]): string[] {
  return rows.map((r) => JSON.stringify(r, Object.keys(r as object).sort())).sort();
}

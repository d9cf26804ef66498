/**
 * The documented shape of /api/status (docs/status-api.md's field table) and
 * the shape of a live document, as path → type maps, so a test can compare
 * them field by field in both directions.
 */
import { readFileSync } from 'node:fs';

export const STATUS_DOC = new URL('../../docs/status-api.md', import.meta.url);

/** `| \`partitions[].lagRecords\` | number \| null | ... |` → { 'partitions[].lagRecords': ['number', 'null'] } */
export function documentedShape(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(STATUS_DOC, 'utf8').split('\n')) {
    const m = /^\| `([^`]+)` \| ([a-z \\|]+) \| /.exec(line);
    if (!m) continue;
    out.set(m[1], m[2].split('\\|').map((t) => t.trim()));
  }
  return out;
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/**
 * Every path of a live document with the types seen there: array elements as
 * `[]`, values of a name-keyed object (`keyed` paths) as `*`. Objects and
 * arrays are containers: only their leaves are listed (a null is a leaf).
 */
export function liveShape(doc: unknown, keyed: ReadonlySet<string>): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const note = (path: string, t: string): void => void (out.get(path) ?? out.set(path, new Set()).get(path)!).add(t);
  const walk = (v: unknown, path: string): void => {
    const t = typeOf(v);
    if (t === 'array') {
      for (const x of v as unknown[]) walk(x, `${path}[]`);
      return;
    }
    if (t === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, keyed.has(path) ? `${path}.*` : path ? `${path}.${k}` : k);
      return;
    }
    note(path, t);
  };
  walk(doc, '');
  return out;
}

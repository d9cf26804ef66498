/** A small parser of the Prometheus text format (0.0.4), for assertions on /metrics output. */

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface Exposition {
  samples: Sample[];
  /** `# TYPE` per family name. */
  types: Map<string, string>;
  /** How many times each family's `# TYPE` line appears (must be once). */
  typeLines: Map<string, number>;
  /** Samples named `name` whose labels include `match`. */
  find(name: string, match?: Record<string, string>): Sample[];
  /** Sum of those samples' values. */
  sum(name: string, match?: Record<string, string>): number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseExposition(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  const typeLines = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [, , name, type] = line.split(' ');
      types.set(name, type);
      typeLines.set(name, (typeLines.get(name) ?? 0) + 1);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
    const v = m[3];
    samples.push({ name: m[1], labels, value: v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v) });
  }
  const find = (name: string, match: Record<string, string> = {}): Sample[] =>
    samples.filter((s) => s.name === name && Object.entries(match).every(([k, v]) => s.labels[k] === v));
  return { samples, types, typeLines, find, sum: (name, match) => find(name, match).reduce((a, s) => a + s.value, 0) };
}

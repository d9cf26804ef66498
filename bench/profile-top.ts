/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, one file per thread): the
 * functions with the most self time, and each one's share of the samples.
 *
 *   node --import tsx bench/profile-top.ts <file.cpuprofile | dir> [top=25]
 *
 * A directory means every .cpuprofile in it; each is reported on its own
 * (worker threads and the main thread do different work). Idle samples
 * ("(idle)", "(program)") count in the total, so shares show how busy the
 * thread was.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export function topSelf(p: Profile, top: number): Array<{ fn: string; ms: number; share: number }> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i], (self.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  const byFn = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    byFn.set(key, (byFn.get(key) ?? 0) + us);
    total += us;
  }
  return [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, us]) => ({ fn, ms: Math.round(us / 1000), share: us / total }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [target, topArg] = process.argv.slice(2);
  const files = statSync(target).isDirectory() ? readdirSync(target).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(target, f)) : [target];
  for (const f of files) {
    const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const total = p.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
    process.stdout.write(`\n== ${f} (${Math.round(total)} ms)\n`);
    for (const r of topSelf(p, Number(topArg ?? 25))) process.stdout.write(`${(r.share * 100).toFixed(1).padStart(5)} %  ${String(r.ms).padStart(6)} ms  ${r.fn}\n`);
  }
}

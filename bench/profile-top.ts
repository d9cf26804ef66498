/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, one file per thread): the
 * functions with the most self time, and each one's share of the samples.
 * Sampling heap profiles (`node --heap-prof`, .heapprofile) are summarized the
 * same way by bytes allocated where the samples fell (what is still live at the
 * end, and with --heap-prof's defaults on Node 24 also what was collected).
 *
 *   node --import tsx bench/profile-top.ts <file.cpuprofile | file.heapprofile | dir> [top=25]
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

interface HeapNode {
  callFrame: { functionName: string; url: string; lineNumber: number };
  selfSize: number;
  children?: HeapNode[];
}

/** Bytes sampled per function (self), largest first. */
export function topAllocations(head: HeapNode, top: number): Array<{ fn: string; bytes: number; share: number }> {
  const byFn = new Map<string, number>();
  let total = 0;
  const stack = [head];
  while (stack.length > 0) {
    const n = stack.pop()!;
    const f = n.callFrame;
    const where = f.url ? `${relative(process.cwd(), f.url.replace(/^file:\/\//, ''))}:${f.lineNumber + 1}` : '';
    const key = `${f.functionName || '(anonymous)'} ${where}`.trim();
    if (n.selfSize > 0) byFn.set(key, (byFn.get(key) ?? 0) + n.selfSize);
    total += n.selfSize;
    for (const c of n.children ?? []) stack.push(c);
  }
  return [...byFn]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([fn, bytes]) => ({ fn, bytes, share: bytes / total }));
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const [target, topArg] = process.argv.slice(2);
  const isProfile = (f: string): boolean => f.endsWith('.cpuprofile') || f.endsWith('.heapprofile');
  const files = statSync(target).isDirectory() ? readdirSync(target).filter(isProfile).map((f) => join(target, f)) : [target];
  for (const f of files) {
    if (f.endsWith('.heapprofile')) {
      const h = JSON.parse(readFileSync(f, 'utf8')) as { head: HeapNode };
      const rows = topAllocations(h.head, Number(topArg ?? 25));
      const mib = (b: number): string => (b / 1048576).toFixed(1);
      process.stdout.write(`\n== ${f}\n`);
      for (const r of rows) process.stdout.write(`${(r.share * 100).toFixed(1).padStart(5)} %  ${mib(r.bytes).padStart(8)} MiB  ${r.fn}\n`);
      continue;
    }
    const p = JSON.parse(readFileSync(f, 'utf8')) as Profile;
    const total = p.timeDeltas.reduce((a, b) => a + b, 0) / 1000;
    process.stdout.write(`\n== ${f} (${Math.round(total)} ms)\n`);
    for (const r of topSelf(p, Number(topArg ?? 25))) process.stdout.write(`${(r.share * 100).toFixed(1).padStart(5)} %  ${String(r.ms).padStart(6)} ms  ${r.fn}\n`);
  }
}

#!/usr/bin/env node
// `npm run build` (and `npm pack`, through prepack): compiles the shipped
// directories to dist/ with declarations (tsconfig.build.json), then copies
// the files next to the code that tsc does not emit (the worker bootstrap and
// module hooks, JSON schemas, the Grafana dashboard, the FerretDB sources),
// keeping their paths, since the code finds them relative to itself.
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = join(root, 'dist');
const SHIPPED = ['api', 'cli', 'engine', 'jobs', 'state', 'metrics'];

rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });

let copied = 0;
for (const top of SHIPPED) {
  for (const entry of readdirSync(join(root, top), { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.endsWith('.ts')) continue;
    const from = join(entry.parentPath, entry.name);
    const to = join(dist, relative(root, from));
    cpSync(from, to);
    copied++;
  }
}
console.error(`build: ${relative(process.cwd(), dist) || '.'}/ compiled, ${copied} other files copied`);

#!/usr/bin/env node
// The `sluice` command. Plain JavaScript so it starts without a TypeScript
// loader. Installed from the package, it runs the compiled CLI in dist/; in a
// clone of the repository (sources present, nothing built) it runs the
// TypeScript sources, and `sluice` imports resolve to them too
// (engine/runtime/source-conditions.mjs). Either way it registers tsx first:
// a user's job module may be TypeScript, CommonJS or ESM. Worker threads
// register tsx themselves (engine/runtime/worker-bootstrap.mjs).
import { existsSync } from 'node:fs';
import { register as registerHooks } from 'node:module';
import { register } from 'tsx/esm/api';

const fromSource = existsSync(new URL('../cli/sluice.ts', import.meta.url));
register();
if (fromSource) registerHooks('../engine/runtime/source-conditions.mjs', import.meta.url);
const { sluice } = await import(fromSource ? '../cli/sluice.ts' : '../dist/cli/sluice.js');
process.exitCode = await sluice(process.argv.slice(2));

#!/usr/bin/env node
// The `sluice` command. Plain JavaScript so it starts without a TypeScript
// loader; it registers tsx, then runs the CLI (cli/sluice.ts). Worker
// threads register tsx themselves (engine/runtime/worker-bootstrap.mjs).
import { register } from 'tsx/esm/api';

register();
const { sluice } = await import('../cli/sluice.ts');
process.exitCode = await sluice(process.argv.slice(2));

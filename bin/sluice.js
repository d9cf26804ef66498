#!/usr/bin/env node
// The `sluice` command. Plain JavaScript so it starts without a TypeScript
// loader; it registers tsx, then runs the CLI (engine/cli/main.ts). Worker
// threads register tsx themselves (engine/runtime/worker-bootstrap.mjs).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../engine/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));

#!/usr/bin/env node
// `npm run bench [-- <scenario> [--option value ...]]`. Plain JavaScript so it
// starts without a TypeScript loader: it registers tsx, then runs bench/run.ts
// (as bin/sluice.js does for the CLI).
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../bench/run.ts');
process.exitCode = await main(process.argv.slice(2));

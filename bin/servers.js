#!/usr/bin/env node
// Entry point for `npm run kafka -- start|stop|status|install`. The servers
// code is TypeScript under engine/dev/servers; registering tsx lets plain `node`
// load it without a build step.
import { register } from 'tsx/esm/api';

register();
await import('../engine/dev/servers/cli.ts');

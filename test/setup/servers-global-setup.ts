/**
 * First global setup of the `integration` project: every server the suite
 * uses is installed (or found in the cache) before any test starts, so no
 * test hook ever waits on a download or a build, and a missing prerequisite
 * fails the run at once with what to install. Global setups have no timeout.
 */
import { installAllServers } from '../../engine/dev/servers/install-all.ts';

export default async function setup(): Promise<void> {
  const started = Date.now();
  await installAllServers();
  console.log(`[servers] all installed in ${((Date.now() - started) / 1000).toFixed(1)}s`);
}

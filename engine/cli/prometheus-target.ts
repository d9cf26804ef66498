/**
 * A running `sluice run` announces its metrics address to the Prometheus of
 * `sluice dev up` through file-based service discovery: one JSON file per
 * process in the targets directory (SLUICE_PROMETHEUS_TARGETS_DIR, set by the
 * dev env file), removed when the run ends. Prometheus rereads the directory
 * on its own, so jobs come and go without restarting it. A process killed
 * with SIGKILL leaves its file behind; Prometheus then shows the target down.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Writes the target file; returns the function that removes it. */
export function registerScrapeTarget(dir: string, job: string, at: { host: string; port: number }): () => void {
  mkdirSync(dir, { recursive: true });
  const host = at.host === '0.0.0.0' || at.host === '::' ? '127.0.0.1' : at.host.includes(':') ? `[${at.host}]` : at.host;
  const file = join(dir, `sluice-${job}-${process.pid}.json`);
  const body = JSON.stringify([{ targets: [`${host}:${at.port}`], labels: { sluice_job: job, pid: String(process.pid) } }], null, 2);
  // Written aside and renamed: Prometheus must never read half a file.
  writeFileSync(`${file}.tmp`, body + '\n');
  renameSync(`${file}.tmp`, file);
  return () => rmSync(file, { force: true });
}

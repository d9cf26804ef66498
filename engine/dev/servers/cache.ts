/**
 * The download cache for test servers. It lives outside the git tree so that a
 * clean clone stays clean and several clones share one download:
 * `${SLUICE_CACHE_DIR:-$HOME/.cache/sluice}`.
 *
 * A directory counts as installed only once its marker file exists; the marker
 * is written last, so an interrupted download is never mistaken for a good one.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MARKER = '.complete.json';

export function cacheRoot(): string {
  const fromEnv = process.env.SLUICE_CACHE_DIR;
  if (fromEnv) return fromEnv;
  return join(homedir(), '.cache', 'sluice');
}

/** What a completed install recorded about itself. */
export interface CompletionInfo {
  completedAt: string;
  [key: string]: unknown;
}

export async function readCompletion(dir: string): Promise<CompletionInfo | undefined> {
  return readJsonFile<CompletionInfo>(join(dir, MARKER));
}

export async function markComplete(dir: string, info: Record<string, unknown>): Promise<void> {
  await writeJsonFileAtomic(join(dir, MARKER), { ...info, completedAt: new Date().toISOString() });
}

export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    // A torn or hand-edited file is treated as absent rather than fatal:
    // everything stored here can be recomputed.
    return undefined;
  }
}

/** Write to a sibling temp file and rename, so readers never see half a file. */
export async function writeJsonFileAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(temp, JSON.stringify(value, null, 2) + '\n');
  await rename(temp, path);
}

export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

export async function ensureDir(path: string): Promise<string> {
  await mkdir(path, { recursive: true });
  return path;
}

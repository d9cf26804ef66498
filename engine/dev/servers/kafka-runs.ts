/**
 * Where broker runs live: each start gets a fresh data directory under a run
 * root (`$TMPDIR/sluice-kafka` unless SLUICE_KAFKA_RUN_DIR says otherwise),
 * and a detached broker is recorded in a state file in the cache dir so that
 * a later `kafka stop` or `kafka status` can find it.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cacheRoot, readJsonFile, removeFile, writeJsonFileAtomic } from './cache.ts';
import { isProcessAlive, processCommandLine } from './process.ts';

/** What the state file records about a detached broker. */
export interface KafkaState {
  version: string;
  pid: number;
  port: number;
  controllerPort: number;
  brokers: string;
  dataDir: string;
  startedAt: string;
}

export function stateFilePath(cacheDir = cacheRoot()): string {
  return join(cacheDir, 'kafka-broker.json');
}

export function defaultRunRoot(): string {
  return process.env.SLUICE_KAFKA_RUN_DIR ?? join(tmpdir(), 'sluice-kafka');
}

export async function readState(cacheDir?: string): Promise<KafkaState | undefined> {
  return readJsonFile<KafkaState>(stateFilePath(cacheDir));
}

export async function writeState(state: KafkaState, cacheDir?: string): Promise<void> {
  await writeJsonFileAtomic(stateFilePath(cacheDir), state);
}

/** Removes the state file unless it has meanwhile been taken over by another broker. */
export async function removeStateFileIfFor(pid: number, cacheDir?: string): Promise<void> {
  const path = stateFilePath(cacheDir);
  const current = await readJsonFile<KafkaState>(path);
  if (!current || current.pid === pid) await removeFile(path);
}

/** Records which process owns a run directory, for sweepStaleRuns. */
export async function writeRunOwner(dataDir: string, pid: number): Promise<void> {
  await writeJsonFileAtomic(join(dataDir, 'owner.json'), { pid, startedAt: new Date().toISOString() });
}

/**
 * True if state.pid is alive and still our Kafka: its command line must name
 * kafka.Kafka and the run's own properties file, so a recycled pid is never
 * signalled.
 */
export async function isOurBroker(state: Pick<KafkaState, 'pid' | 'dataDir'>): Promise<boolean> {
  if (!isProcessAlive(state.pid)) return false;
  const commandLine = await processCommandLine(state.pid);
  return commandLine !== undefined && commandLine.includes('kafka.Kafka') && commandLine.includes(state.dataDir);
}

/**
 * Removes data directories of earlier runs whose broker is gone (a killed
 * test run, a reboot). A directory without an owner file is only removed once
 * it is an hour old: another process may be formatting it right now, or it
 * is a failed start kept for inspection.
 */
export async function sweepStaleRuns(runRoot: string): Promise<void> {
  let entries: string[];
  try {
    entries = (await readdir(runRoot)).filter((name) => name.startsWith('run-'));
  } catch {
    return;
  }
  for (const name of entries) {
    const dir = join(runRoot, name);
    const owner = await readJsonFile<{ pid: number }>(join(dir, 'owner.json'));
    let stale: boolean;
    if (owner) {
      stale = !(await isOurBroker({ pid: owner.pid, dataDir: dir }));
    } else {
      const info = await stat(dir).catch(() => undefined);
      stale = info !== undefined && Date.now() - info.mtimeMs > 60 * 60_000;
    }
    if (stale) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

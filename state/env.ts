/**
 * The LMDB environment that holds all keyed state of a process group.
 *
 * One environment directory is shared by every actor on every worker thread of
 * every process that points at it; lmdb-js shares the native environment
 * between threads of a process, and LMDB's lock file coordinates processes.
 * Each thread opens the environment once (cached here by resolved path, and
 * reference counted so the last `closeStateEnv` really closes it).
 *
 * Named databases (all values are raw bytes encoded with state/codec.ts, all
 * keys are lmdb-js ordered-binary arrays whose first element is the actor id,
 * so one actor's data is one contiguous key range in each db):
 *
 *   state   [actorId, operator, stateName, key]          -> value
 *           [actorId, operator, stateName, key, field]   -> value (map state)
 *   timers  [actorId, operator, kind, ts, key, tag|null] -> empty value
 *   meta    [actorId, 'checkpoint']                      -> CheckpointMeta
 *           [actorId, 'lease']                           -> LeaseRecord
 *   outbox  [actorId, epoch, sinkId, chunkNo]            -> records[] (chunk)
 *
 * Durability: commits use `transactionSync` with lmdb-js's default flags
 * (abortable, synchronous commit, flushed before returning): LMDB fdatasync()s
 * the data file and writes the meta page through an O_DSYNC descriptor before
 * the call returns (checked with strace: one fdatasync + one O_DSYNC pwrite
 * per commit). `overlappingSync` is turned off: it only helps lmdb-js's
 * asynchronous writes, which this layer never uses, and without it recovery
 * is plain LMDB (last meta page = last committed transaction). Measured
 * (bench/state.ts, bench/results/2026-11-22-state.json, 100k-key actor):
 * median commit 1.45 ms for 1 dirty key, 9.3 ms for 1k, 42 ms for 10k with
 * fsync; overlappingSync on gives the same (1.29 / 9.3 / 40 ms), noSync
 * 0.03 / 4.8 / 33 ms. `noSync` exists for tests and benchmarks only. LMDB stores these flags in the
 * environment: every opener of a directory must pass the same options
 * (lmdb-js throws otherwise), which is why they are all funnelled through here.
 */
import { open, type Database, type RootDatabase, type Key } from 'lmdb';
import { resolve } from 'node:path';
import { SluiceError, ErrorCodes } from '../engine/errors.ts';

export interface StateEnvOptions {
  /**
   * Address space reserved for the map, not disk space: the data file grows
   * with use. LMDB cannot grow past it, so it is generous. Default 64 GiB.
   */
  mapSize?: number;
  /** Skip fsync on commit. Tests and benchmarks only: a crash may lose checkpoints. */
  noSync?: boolean;
  /** LMDB reader slots shared by all threads and processes. Default 1024. */
  maxReaders?: number;
}

export type BinaryDb = Database<Buffer, Key>;

export interface StateEnv {
  readonly path: string;
  readonly options: Readonly<StateEnvOptions>;
  readonly root: RootDatabase<Buffer, Key>;
  readonly state: BinaryDb;
  readonly timers: BinaryDb;
  readonly meta: BinaryDb;
  readonly outbox: BinaryDb;
}

interface CachedEnv {
  env: StateEnv;
  refs: number;
}

// Module state is per thread: each worker has its own copy of this map.
const opened = new Map<string, CachedEnv>();

const DEFAULT_MAP_SIZE = 64 * 1024 ** 3;

/** Opens (or returns this thread's already open) state environment at `dir`. */
export function openStateEnv(dir: string, options: StateEnvOptions = {}): StateEnv {
  const path = resolve(dir);
  const cached = opened.get(path);
  if (cached) {
    if (Boolean(cached.env.options.noSync) !== Boolean(options.noSync)) {
      throw new SluiceError(ErrorCodes.STATE, `state env ${path} already open with noSync=${Boolean(cached.env.options.noSync)}`);
    }
    cached.refs++;
    return cached.env;
  }
  let root: RootDatabase<Buffer, Key>;
  try {
    root = open<Buffer, Key>(path, {
      mapSize: options.mapSize ?? DEFAULT_MAP_SIZE,
      maxDbs: 8,
      maxReaders: options.maxReaders ?? 1024,
      noSync: options.noSync ?? false,
      overlappingSync: false,
      // lmdb-js's own object cache would hold decoded copies next to ours.
      cache: false,
      encoding: 'binary',
      // The state dir is always a directory: lmdb-js would otherwise take a
      // path with an extension (--state-dir ./job.mts-state.v2) for a file.
      noSubdir: false,
    });
  } catch (err) {
    throw new SluiceError(ErrorCodes.STATE, `cannot open state env ${path}: ${(err as Error).message}`, {
      cause: err,
      retryable: false,
    });
  }
  const db = (name: string): BinaryDb => root.openDB<Buffer, Key>(name, { encoding: 'binary', cache: false });
  const env: StateEnv = {
    path,
    options: { ...options },
    root,
    state: db('state'),
    timers: db('timers'),
    meta: db('meta'),
    outbox: db('outbox'),
  };
  opened.set(path, { env, refs: 1 });
  return env;
}

const READER_CHECK_INTERVAL_MS = 60_000;
const lastReaderCheck = new WeakMap<StateEnv, number>();

/**
 * Frees LMDB reader slots left by dead processes (or threads). A stale slot
 * pins the snapshot it was reading, so LMDB cannot reuse pages freed after
 * it and the file grows. lmdb-js checks at open and on its asynchronous
 * write path only; synchronous commits call this, and it acts at most once a
 * minute per env and thread (it scans the reader table). Returns the number
 * of slots freed, or undefined when it did not check.
 */
export function maybeCheckReaders(env: StateEnv, now = Date.now()): number | undefined {
  const last = lastReaderCheck.get(env);
  if (last === undefined) {
    lastReaderCheck.set(env, now); // lmdb-js just checked at open
    return undefined;
  }
  if (now - last < READER_CHECK_INTERVAL_MS) return undefined;
  lastReaderCheck.set(env, now);
  return env.root.readerCheck();
}

/** Drops one reference; the environment closes when this thread's last user closes it. */
export async function closeStateEnv(env: StateEnv): Promise<void> {
  const cached = opened.get(env.path);
  if (!cached || cached.env !== env) return;
  if (--cached.refs > 0) return;
  opened.delete(env.path);
  await env.root.close();
}

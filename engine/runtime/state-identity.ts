/**
 * What a state directory was written for. Its checkpoints hold positions:
 * offsets of Kafka partitions, or counters of generators and files. Those
 * mean something only for the input they were taken on: a generator's
 * position used as a Kafka offset skipped most of the topic, and the old
 * counts leaked into the results (issue 16, finding 2). So the first run
 * records, in `<state-dir>/identity.json`, the job, each source's kind and
 * topic (or file), the Kafka cluster id and the partition count; a later run
 * with another identity refuses before it opens anything, naming both and
 * the way out. A directory that holds checkpoints but no identity (written
 * before this file existed, or by hand) refuses too: what it was written for
 * is unknown, and reusing its positions on another input is exactly the
 * silent skip this prevents. The way out names `--adopt-state`, an explicit
 * opt-in that records the current run's identity for it. An empty or new
 * directory just gets the identity.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SourceSpec } from '../contracts/sources.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';

export interface StateIdentity {
  v: 1;
  job: string;
  /** Per source id: "kafka topic <t>", "generator", "file <path>", "custom". */
  sources: Record<string, string>;
  /** Kafka jobs: the cluster the offsets belong to. */
  kafkaCluster?: string;
  partitions: number;
}

export const IDENTITY_FILE = 'identity.json';
/** LMDB's data file (state/env.ts): present once any run opened the state. */
const CHECKPOINT_DATA = 'data.mdb';

export function identityOf(job: string, sources: Record<string, SourceSpec>, partitions: number, kafkaCluster?: string): StateIdentity {
  const kinds: Record<string, string> = {};
  for (const [id, s] of Object.entries(sources)) {
    kinds[id] = s.kind === 'kafka' ? `kafka topic ${s.topic}` : s.kind === 'file' ? `file ${s.path}` : s.kind;
  }
  return { v: 1, job, sources: kinds, ...(kafkaCluster !== undefined ? { kafkaCluster } : {}), partitions };
}

/** One line: `job keyed-count, events=kafka topic events, Kafka cluster Abc, 4 partitions`. */
export function describeIdentity(id: StateIdentity): string {
  const sources = Object.entries(id.sources).map(([k, v]) => `${k}=${v}`).join(', ');
  return `job ${id.job}, ${sources}${id.kafkaCluster ? `, Kafka cluster ${id.kafkaCluster}` : ''}, ${id.partitions} partition${id.partitions === 1 ? '' : 's'}`;
}

function same(a: StateIdentity, b: StateIdentity): boolean {
  return describeIdentity(a) === describeIdentity(b);
}

/**
 * Throws CONFIG when `dir` was written for another identity, or holds
 * checkpoints without an identity (unless `adopt`); records `id` when the
 * directory has none yet. Call before anything opens the state.
 */
export function checkStateIdentity(dir: string, id: StateIdentity, jobArg = id.job, adopt = false): void {
  const file = join(dir, IDENTITY_FILE);
  if (existsSync(file)) {
    let recorded: StateIdentity;
    try {
      recorded = JSON.parse(readFileSync(file, 'utf8')) as StateIdentity;
    } catch (err) {
      throw new SluiceError(ErrorCodes.CONFIG, `state directory ${dir}: ${IDENTITY_FILE} is not readable JSON (${(err as Error).message}); remove the directory or give another --state-dir`);
    }
    if (same(recorded, id)) return;
    throw new SluiceError(
      ErrorCodes.CONFIG,
      `state directory ${dir} was written for ${describeIdentity(recorded)}; this run is ${describeIdentity(id)}. ` +
        `Its positions mean nothing here and would skip or repeat input: give this run its own --state-dir, ` +
        `or start over with \`sluice reset ${jobArg}\` (deletes that state).`,
    );
  }
  if (!adopt && existsSync(join(dir, CHECKPOINT_DATA))) {
    throw new SluiceError(
      ErrorCodes.CONFIG,
      `state directory ${dir} holds checkpoints but no ${IDENTITY_FILE} (written before sluice recorded what a state directory is for), ` +
        `so its positions may belong to another input and would skip or repeat records. If it was written for this run (${describeIdentity(id)}), ` +
        `adopt it with --adopt-state (records this run's identity); else give this run its own --state-dir, ` +
        `or start over with \`sluice reset ${jobArg}\` (deletes that state).`,
    );
  }
  mkdirSync(dir, { recursive: true });
  // Written whole or not at all: a crash mid-write must not leave half a file that refuses every start.
  writeFileSync(`${file}.tmp`, JSON.stringify(id, null, 2) + '\n');
  renameSync(`${file}.tmp`, file);
}

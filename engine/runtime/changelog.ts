/**
 * Changelog topics: Kafka as the durable home of each partition actor's
 * state, so a partition can move to a process on another machine.
 *
 * Topics (compacted, one partition per job partition), named by the job's
 * application id (the --group-id if given, else the job name):
 *   <app>-<operator>-changelog   every state and timer write of that operator
 *   <app>-checkpoints            one marker per checkpoint, key "p<partition>"
 *
 * Record format (written by ChangelogDriver, read by restoreFromChangelog):
 *   changelog key    msgpack([db, ...lmdbKey]), db "state" | "timers", lmdbKey
 *                    the store's key array (actor id, operator, ...)
 *   changelog value  the bytes the store keeps (msgpack value; 0x01 for a
 *                    timer), or null: a tombstone for a deleted key
 *   marker value     JSON { token, epoch, positions, sources, at, wm, windows, timers }
 *                    (the last three for `sluice status`: watermark, open windows, timers)
 *
 * Each checkpoint's changes and its marker are in ONE Kafka transaction, with
 * transactional.id `sluice-<app>-p<partition>`: a new owner's producer fences
 * the old one, and read_committed readers never see half a checkpoint. When
 * checkpoints queue up behind a transaction in flight (short intervals), the
 * next transaction takes all of them (one `commit()`): a transaction costs
 * a few broker round trips, and one per checkpoint would cap the rate. The
 * changes travel through the actor's outbox like any output (sink
 * `__changelog`, delivered after the other sinks of the same epoch), so a
 * crash between the LMDB commit and the Kafka commit redelivers them.
 *
 * On assignment the worker compares the newest marker in Kafka with the
 * markers its local LMDB wrote: if Kafka's is one of them (or there is none),
 * local state is current or newer (its undelivered changelog is redelivered);
 * otherwise another process moved on, or the local state is missing, and the
 * actor's local state is dropped and rebuilt from the changelog up to that
 * marker, whose positions the consumer then seeks to.
 */
import type { Key } from 'lmdb';
import { resolveJob, type JobDefinition, type Settings } from '../contracts/job.ts';
import { PipelineBuilder } from '../contracts/pipeline.ts';
import type { AnySinkDriver, EpochTransaction, SinkDelivery, SinkEpoch, TwoPhaseSinkDriver } from '../contracts/sinks.ts';
import { createAdmin } from '../kafka/admin.ts';
import { isFenced, isRecordFault } from '../kafka/client.ts';
import { readPartitions } from '../kafka/partition-reader.ts';
import { createProducer } from '../kafka/producer.ts';
import type { KafkaClientConfig, LazyRecords, Producer, ProducerRecord } from '../kafka/types.ts';
import { sendBytes, sendRecords, type SendRecords } from '../kafka/produce-batches.ts';
import { ErrorCodes, SluiceError } from '../errors.ts';
import type { PartitionStore } from '../../state/partition-store.ts';
import { restoresTopic } from './restore-progress.ts';
import { decodeChangelogKey, encodeChangelogKey } from './changelog-key.ts';
import { CHANGELOG_SINK, type ChangelogPack } from './changelog-pack.ts';
import { ChangelogRecords, type ChangelogTopics } from './changelog-records.ts';

export { CHANGELOG_SINK };

export const changelogTopic = (job: string, operator: string): string => `${job}-${operator}-changelog`;
export const checkpointTopic = (job: string): string => `${job}-checkpoints`;

export interface ChangelogMarker {
  token: string;
  epoch: number;
  positions: Record<string, number>;
  sources?: Record<string, unknown>;
  at: number;
  /** For `sluice status`: the partition's watermark at this checkpoint ("end": every input finished; null: none yet). */
  wm?: number | 'end' | null;
  /** For `sluice status`: windows waiting to fire, and all live timers (PartitionActor.progressFigures). */
  windows?: number;
  timers?: number;
}

/**
 * What the actor puts in its outbox for CHANGELOG_SINK: the marker, then the
 * writes, packed (changelog-pack.ts: many records' bytes in one Buffer).
 * The `{ o, c, v }` form (a record per write, its changelog key encoded)
 * and the `{ d, k, v }` form are what outboxes written before held: still
 * delivered.
 */
export type ChangelogEntry =
  | { m: ChangelogMarker }
  | ChangelogPack
  | { o: string; c: Buffer; v: Buffer | null }
  | { d: 'state' | 'timers'; k: Key; v: Buffer | null };

export { encodeChangelogKey };

/** Operators that may keep state: everything but the stateless library operators. */
export function statefulOperators(job: JobDefinition<Settings>, settings: Settings): string[] {
  const b = new PipelineBuilder();
  job.pipeline(b, settings);
  return b.nodes.filter((n) => n.kind === 'operator' && (n.operator as { stateless?: boolean }).stateless !== true).map((n) => n.id);
}

/** Whether an embedded job writes Kafka: a Kafka sink, or dead letters to a Kafka topic (worker-host.ts). */
export function writesKafka(job: JobDefinition<Settings>, settings: Settings): boolean {
  const dlq = settings.dlqTopic;
  return (typeof dlq === 'string' && dlq !== '') || Object.values(resolveJob(job, settings).sinks).some((s) => s.kind === 'kafka');
}

/** Creates the checkpoint topic and a changelog topic per stateful operator, compacted, P partitions each (and the restore-progress topic, restore-progress.ts). */
export async function ensureChangelogTopics(cfg: KafkaClientConfig, job: string, operators: string[], partitions: number): Promise<void> {
  const admin = createAdmin(cfg);
  try {
    const compact = { 'cleanup.policy': 'compact' };
    await admin.ensureTopic(checkpointTopic(job), partitions, compact);
    if (operators.length > 0) await admin.ensureTopic(restoresTopic(job), 1, compact);
    for (const op of operators) await admin.ensureTopic(changelogTopic(job, op), partitions, compact);
  } finally {
    await admin.close();
  }
}

/**
 * One per actor: its own transactional producer, so a new owner fences the
 * old one. A two-phase sink (contracts/sinks.ts): prepare() stages an
 * epoch's marker and changes; commit() sends the staged epochs in ONE Kafka
 * transaction.
 *
 * The transaction also carries the output of the Kafka sinks (and of a dead
 * letter topic): their prepare() adds it through `transaction(sink, epoch)`,
 * before the queue gives the changelog the epoch (delivery-queue.ts), so
 * Kafka holds an epoch's output exactly when it holds its marker.
 * `committedEpoch` is the epoch of the newest marker in Kafka that this
 * local state wrote: epochs up to it are in Kafka already, and their
 * redelivery after a crash sends nothing.
 */
export class ChangelogDriver implements TwoPhaseSinkDriver {
  private producer: Producer | undefined;
  /** Per epoch: what each sink added to the transaction, by sink id (the changelog's own marker and changes under CHANGELOG_SINK, made into records as they are sent). */
  private readonly staged = new Map<number, Map<string, readonly ProducerRecord[] | LazyRecords>>();
  private readonly topics: ChangelogTopics;
  committedEpoch = 0;

  constructor(
    private readonly cfg: KafkaClientConfig,
    private readonly job: string,
    private readonly partition: number,
  ) {
    const byOperator = new Map<string, string>();
    this.topics = {
      changes: (op) => byOperator.get(op) ?? (byOperator.set(op, changelogTopic(job, op)), byOperator.get(op)!),
      markers: checkpointTopic(job),
    };
  }

  /**
   * The epoch's transaction, as a sink's prepare() sees it. Each prepare
   * starts afresh: what the sink added for the epoch before (a prepare whose
   * commit failed) is replaced, never sent twice.
   */
  transaction(sinkId: string, epoch: number): EpochTransaction {
    if (epoch <= this.committedEpoch) return { add: () => {} };
    this.stage(epoch, sinkId, []);
    return {
      add: (records) => {
        if (records.length === 0) return;
        const prev = (this.staged.get(epoch)?.get(sinkId) ?? []) as readonly ProducerRecord[];
        this.stage(epoch, sinkId, prev.length === 0 ? records : [...prev, ...records]);
      },
    };
  }

  private stage(epoch: number, sinkId: string, records: readonly ProducerRecord[] | LazyRecords): void {
    let bySink = this.staged.get(epoch);
    if (!bySink) this.staged.set(epoch, (bySink = new Map()));
    bySink.set(sinkId, records);
  }

  async open(): Promise<void> {
    this.producer = createProducer(this.cfg, { transactionalId: `sluice-${this.job}-p${this.partition}` });
    await this.producer.connect();
  }

  /** Phase 1: the epoch's marker and changes, staged as records to be made when sent (replacing an earlier prepare of the epoch). */
  async prepare(d: SinkDelivery): Promise<void> {
    if (d.epoch <= this.committedEpoch) return;
    this.stage(d.epoch, CHANGELOG_SINK, new ChangelogRecords(d.records, d.partition, this.topics));
  }

  /**
   * Phase 2: consecutive epochs in ONE transaction: each epoch's sink output,
   * then its marker and changes. Atomic, so the newest marker Kafka holds
   * still names the last epoch whose output and changes it holds.
   */
  async commit(epochs: readonly SinkEpoch[]): Promise<void> {
    const parts: SendRecords[] = [];
    let bytes = 0;
    const add = (r: readonly ProducerRecord[] | LazyRecords | undefined): void => {
      const n = r === undefined ? 0 : sendBytes(r as SendRecords);
      if (n === 0) return;
      parts.push(r as SendRecords);
      bytes += n;
    };
    for (const { epoch } of epochs) {
      const bySink = this.staged.get(epoch);
      if (epoch <= this.committedEpoch || !bySink) {
        this.staged.delete(epoch);
        continue;
      }
      // The sinks' output first, the marker and changes last, as before the contract was public.
      for (const [sinkId, recs] of bySink) if (sinkId !== CHANGELOG_SINK) add(recs);
      add(bySink.get(CHANGELOG_SINK));
    }
    if (parts.length === 0) return;
    try {
      // One send, so one transaction; its records are made a request at a time.
      await this.producer!.send(parts.length === 1 ? parts[0] : { bytes, records: () => sendRecords(parts) });
      for (const { epoch } of epochs) this.staged.delete(epoch);
    } catch (err) {
      const fenced = isFenced(err);
      if (!fenced) {
        // A failed transactional send leaves the producer unusable: start a new one (same id) for the retry.
        await this.producer!.disconnect().catch(() => {});
        await this.open().catch(() => {});
      }
      // Fenced: another process owns the partition now. A record fault (one over the broker's size limit):
      // the same records would fail again. Anything else is the cluster's, and the delivery policy retries it.
      const recordFault = !fenced && isRecordFault(err);
      const why = fenced ? ' (fenced: another process owns this partition now)' : recordFault ? ' (a record the broker refuses: retrying cannot help)' : '';
      throw new SluiceError(ErrorCodes.SINK, `Kafka transaction of p${this.partition}: ${(err as Error).message}${why}`, {
        cause: err,
        retryable: !fenced && !recordFault,
      });
    }
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = undefined;
  }
}

/**
 * Sets up an actor's changelog when it opens. Opening its transactional
 * producer fences the previous owner (producer.ts); only then is the newest
 * marker in Kafka final, and it tells whether the local state is current (the
 * marker is one this state wrote: epochs up to it are not sent again), or
 * must be rebuilt from the changelog (`restoreFrom`). Sinks that write Kafka
 * join the epoch's transaction in their prepare() (ChangelogDriver.transaction).
 */
export async function openChangelog(
  cfg: KafkaClientConfig,
  job: string,
  partition: number,
  drivers: ReadonlyMap<string, AnySinkDriver>,
  localExtra: unknown,
  embedded: boolean,
): Promise<{ changelog: ChangelogDriver; sinks: ReadonlyMap<string, AnySinkDriver>; restoreFrom: ChangelogMarker | undefined }> {
  const cl = new ChangelogDriver(cfg, job, partition);
  await cl.open();
  const sinks = new Map<string, AnySinkDriver>([...drivers, [CHANGELOG_SINK, cl]]);
  const marker = await readLatestMarker(cfg, job, partition);
  const mine = (localExtra as { markers?: string[] } | undefined)?.markers ?? [];
  let restoreFrom: ChangelogMarker | undefined;
  if (marker !== undefined && mine.includes(marker.token)) cl.committedEpoch = marker.epoch;
  // An embedded job's local state is its only state: its markers only say what Kafka holds.
  else if (marker !== undefined && !embedded) restoreFrom = marker;
  return { changelog: cl, sinks, restoreFrom };
}

/** The newest checkpoint marker of a partition in Kafka, or undefined. */
export async function readLatestMarker(cfg: KafkaClientConfig, job: string, partition: number): Promise<ChangelogMarker | undefined> {
  let latest: ChangelogMarker | undefined;
  await readPartitions(cfg, [checkpointTopic(job)], partition, (_t, recs) => {
    for (const r of recs) if (r.value !== null) latest = JSON.parse(r.value.toString()) as ChangelogMarker;
  });
  return latest;
}

export interface RestoreResult {
  records: number;
  keys: number;
  ms: number;
}

/**
 * Rebuilds an actor's local state from its changelogs: drops what LMDB holds
 * for it, applies the last value of every key (tombstones delete), then
 * commits the marker's epoch and positions as the actor's checkpoint.
 */
export async function restoreFromChangelog(
  cfg: KafkaClientConfig,
  job: string,
  operators: string[],
  partition: number,
  store: PartitionStore,
  marker: ChangelogMarker,
  progress?: (records: number, total: number) => void,
): Promise<RestoreResult> {
  const t0 = Date.now();
  store.drop();
  const last = new Map<string, { db: 'state' | 'timers'; key: Key; value: Buffer | null }>();
  let total = 0;
  let read = 0;
  const { records } = await readPartitions(
    cfg,
    operators.map((op) => changelogTopic(job, op)),
    partition,
    (_t, recs) => {
      for (const r of recs) {
        if (r.key === null) continue;
        const [db, ...key] = decodeChangelogKey(r.key);
        last.set(r.key.toString('latin1'), { db, key: key as Key, value: r.value });
      }
      progress?.((read += recs.length), total);
    },
    undefined,
    (n) => progress?.(0, (total = n)),
  );
  const entries = [...last.values()].filter((e) => e.value !== null);
  // In slices, yielding between them: the other actors of this worker keep processing meanwhile.
  const SLICE = 10_000;
  for (let i = 0; i < entries.length; i += SLICE) {
    store.restoreEntries(entries.slice(i, i + SLICE));
    if (i + SLICE < entries.length) await new Promise((r) => setImmediate(r));
  }
  store.commit({
    epoch: marker.epoch,
    positions: marker.positions,
    extra: { acked: marker.epoch, sources: marker.sources, markers: [marker.token] },
    outbox: [],
  });
  return { records, keys: entries.length, ms: Date.now() - t0 };
}

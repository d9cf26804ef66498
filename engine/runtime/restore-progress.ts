/**
 * Restore progress, published to Kafka so that `sluice status` (another
 * process, maybe on another machine) can show which partitions are being
 * restored from their changelogs, by whom, and how far along they are.
 *
 * Topic `<app>-restores`: compacted, one partition, key "p<partition>", the
 * latest record per key is the partition's restore state. Value, JSON:
 *   { partition, owner, state: "restoring" | "restored", records, total,
 *     keys, startedAt, at }
 * `owner` is "<host> pid <pid>"; `records` changelog records read so far out
 * of `total` (the changelogs' end offsets when the restore began); `keys` the
 * keys rebuilt (once restored); times in ms since the epoch. A record goes
 * out when a restore starts, at most every PROGRESS_EVERY_MS while it reads,
 * and when it ends. Publishing is best effort: a failure to publish is
 * reported on stderr and never fails the restore.
 */
import { hostname } from 'node:os';
import { readPartitions } from '../kafka/partition-reader.ts';
import { createProducer } from '../kafka/producer.ts';
import type { KafkaClientConfig, Producer } from '../kafka/types.ts';

export const restoresTopic = (app: string): string => `${app}-restores`;

const PROGRESS_EVERY_MS = 500;

export interface RestoreProgress {
  partition: number;
  owner: string;
  state: 'restoring' | 'restored';
  records: number;
  total: number;
  keys: number;
  startedAt: number;
  at: number;
}

/** One per worker: publishes the progress of its actors' restores. */
export class RestoreProgressPublisher {
  private producer: Producer | undefined;
  private connecting: Promise<Producer> | undefined;

  constructor(
    private readonly cfg: KafkaClientConfig,
    private readonly app: string,
  ) {}

  /** Starts tracking one partition's restore; call the returned functions as it goes. */
  begin(partition: number): { progress(records: number, total: number): void; done(records: number, keys: number): Promise<void> } {
    const p: RestoreProgress = { partition, owner: `${hostname()} pid ${process.pid}`, state: 'restoring', records: 0, total: 0, keys: 0, startedAt: Date.now(), at: Date.now() };
    let last = 0;
    let inFlight: Promise<void> = this.publish(p);
    return {
      progress: (records, total) => {
        p.records = records;
        p.total = total;
        const now = Date.now();
        if (now - last < PROGRESS_EVERY_MS) return;
        last = now;
        inFlight = inFlight.then(() => this.publish({ ...p, at: now }));
      },
      done: async (records, keys) => {
        await inFlight;
        await this.publish({ ...p, state: 'restored', records, total: Math.max(p.total, records), keys, at: Date.now() });
      },
    };
  }

  async close(): Promise<void> {
    const p = this.producer;
    this.producer = undefined;
    this.connecting = undefined;
    await p?.disconnect().catch(() => {});
  }

  private async publish(p: RestoreProgress): Promise<void> {
    try {
      this.connecting ??= (async () => {
        // Not a sink: no delivery policy retries these status records, so kafkajs may.
        const prod = createProducer(this.cfg, { kafkaRetries: true });
        await prod.connect();
        this.producer = prod;
        return prod;
      })();
      const prod = await this.connecting;
      await prod.send([{ topic: restoresTopic(this.app), partition: 0, key: `p${p.partition}`, value: JSON.stringify(p) }]);
    } catch (err) {
      this.connecting = undefined;
      process.stderr.write(`sluice: could not publish restore progress of p${p.partition}: ${(err as Error).message}\n`);
    }
  }
}

/** The latest restore state of every partition that was ever restored. */
export async function readRestoreProgress(cfg: KafkaClientConfig, app: string): Promise<Map<number, RestoreProgress>> {
  const out = new Map<number, RestoreProgress>();
  await readPartitions(cfg, [restoresTopic(app)], 0, (_t, recs) => {
    for (const r of recs) {
      if (r.value === null) continue;
      const p = JSON.parse(r.value.toString()) as RestoreProgress;
      out.set(p.partition, p);
    }
  });
  return out;
}

/** One line's worth for `sluice status`. */
export function describeRestore(p: RestoreProgress | undefined, now = Date.now()): string {
  if (p === undefined) return '-';
  if (p.state === 'restoring') {
    const pct = p.total > 0 ? Math.floor((100 * p.records) / p.total) : 0;
    // A process killed mid-restore leaves this state behind: say how old it is.
    const quiet = now - p.at > 10_000 ? `, no report for ${((now - p.at) / 1000).toFixed(0)} s` : '';
    return `restoring ${pct}% (${p.records}/${p.total} records, ${((now - p.startedAt) / 1000).toFixed(1)} s${quiet}) on ${p.owner}`;
  }
  return `restored ${p.keys} keys in ${((p.at - p.startedAt) / 1000).toFixed(1)} s, ${((now - p.at) / 1000).toFixed(0)} s ago, on ${p.owner}`;
}

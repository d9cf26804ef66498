/**
 * The in-memory half of the outbox: records that sink nodes received during
 * the current epoch, waiting for the checkpoint that makes them durable; and
 * what a restarted actor must deliver again. The queue that delivers durable
 * epochs to the sinks is delivery-queue.ts.
 *
 * Record ids are `<partition>-<epoch>-<sink seq>`: deterministic because the
 * outbox content is fixed by the committed checkpoint, so a redelivery after a
 * crash carries the same ids.
 */
import type { Key } from '../contracts/operator.ts';
import type { SinkRecord } from '../contracts/sinks.ts';
import { CHANGELOG_SINK } from './changelog.ts';

export interface OutboxEntry {
  epoch: number;
  sinkId: string;
  records: SinkRecord[];
}

export class OutboxBuffer {
  private readonly bySink = new Map<string, SinkRecord[]>();
  private size = 0;

  constructor(private readonly partition: number) {}

  get pending(): number {
    return this.size;
  }

  append(sinkId: string, epoch: number, values: unknown[], times: number[], keys: Array<Key | undefined> | undefined): void {
    let list = this.bySink.get(sinkId);
    if (!list) this.bySink.set(sinkId, (list = []));
    const prefix = `${this.partition}-${epoch}-`;
    for (let i = 0; i < values.length; i++) {
      const k = keys?.[i];
      list.push({ id: prefix + list.length, key: k === undefined ? null : String(k), value: values[i], time: times[i] });
    }
    this.size += values.length;
  }

  /** Takes this epoch's records, sink by sink, and empties the buffer. */
  take(): Array<{ sinkId: string; records: SinkRecord[] }> {
    const out = [...this.bySink].map(([sinkId, records]) => ({ sinkId, records }));
    this.bySink.clear();
    this.size = 0;
    return out;
  }
}

/**
 * The outbox epochs a restarted actor must deliver again: those after
 * `acked`, in epoch order, each as one entry per sink. The store may return
 * one epoch's records for a sink in several chunks; they are merged, because
 * a sink delivers an (epoch, sink) as one unit (the file sink writes one
 * file). The changelog comes last in each epoch: its marker must not get
 * ahead of the output it covers (changelog.ts). The DeliveryQueue enforces
 * that too; the order keeps it true for anything that reads the list.
 */
export function undeliveredEpochs(stored: Iterable<{ epoch: number; sinkId: string; records: unknown[] }>, acked: number): Array<[number, OutboxEntry[]]> {
  const pending = new Map<number, Map<string, OutboxEntry>>();
  for (const e of stored) {
    if (e.epoch <= acked) continue;
    const bySink = pending.get(e.epoch) ?? new Map<string, OutboxEntry>();
    const entry = bySink.get(e.sinkId);
    if (entry) entry.records.push(...(e.records as SinkRecord[]));
    else bySink.set(e.sinkId, { epoch: e.epoch, sinkId: e.sinkId, records: [...(e.records as SinkRecord[])] });
    pending.set(e.epoch, bySink);
  }
  return [...pending]
    .sort((a, b) => a[0] - b[0])
    .map(([epoch, bySink]) => [epoch, [...bySink.values()].sort((a, b) => Number(a.sinkId === CHANGELOG_SINK) - Number(b.sinkId === CHANGELOG_SINK))]);
}

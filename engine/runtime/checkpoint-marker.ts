/**
 * The changelog entry of a checkpoint (changelog.ts): its marker, which
 * names the epoch, the positions and what `sluice status` shows of the
 * partition, followed by every state and timer write of the commit, which
 * the store's recorder appends while the commit runs (before the store
 * writes the outbox in the same transaction).
 */
import type { ChangeRecorder } from '../../state/partition-store.ts';
import type { SinkRecord } from '../contracts/sinks.ts';
import { FIRE } from '../operators/windows/window-types.ts';
import { CHANGELOG_SINK, encodeChangelogKey, type ChangelogMarker } from './changelog.ts';
import type { ActorStore } from './store-contract.ts';

/**
 * What `sluice status` shows of this partition, published with each
 * checkpoint marker: the watermark ("end" once every input finished,
 * null before the first), the windows waiting to fire (window operators'
 * "fire" timers: one per key and window for tumbling and session windows,
 * per key the next window to fire for hopping ones) and all timers.
 */
export function progressFigures(store: ActorStore, watermark: number): Pick<ChangelogMarker, 'wm' | 'windows' | 'timers'> {
  const w = watermark;
  return {
    wm: w === Infinity ? 'end' : Number.isFinite(w) ? w : null,
    windows: store.timerCount('event', FIRE),
    timers: store.timerCount(),
  };
}

/** The entry's records, starting with the marker; with `recordChanges`, a recorder that appends the commit's writes. */
export function changelogEntry(marker: ChangelogMarker, recordChanges: boolean): { records: SinkRecord[]; recorder: ChangeRecorder | undefined } {
  const records: SinkRecord[] = [{ id: '', key: null, time: 0, value: { m: marker } }];
  // The store reuses its key arrays between writes: the key is encoded at once (changelog.ts).
  const recorder: ChangeRecorder | undefined = recordChanges
    ? (d, k, v) => void records.push({ id: '', key: null, time: 0, value: { o: String((k as unknown[])[1]), c: encodeChangelogKey(d, k), v } })
    : undefined;
  return { records, recorder };
}

/**
 * Phase 1 of a checkpoint of a job with a changelog (or markers only):
 * appends the checkpoint's changelog entry to the epoch's outbox entries,
 * and returns the recorder that fills it while the commit runs.
 */
export function appendChangelogEntry(entries: Array<{ sinkId: string; records: SinkRecord[] }>, marker: ChangelogMarker, recordChanges: boolean): ChangeRecorder | undefined {
  const entry = changelogEntry(marker, recordChanges);
  entries.push({ sinkId: CHANGELOG_SINK, records: entry.records });
  return entry.recorder;
}

/** What a checkpoint stores beside the positions (its `extra`): the acked epoch, custom sources' snapshots, the changelog markers this state wrote, event time. */
export interface CheckpointExtra {
  acked?: number;
  sources?: Record<string, unknown>;
  markers?: string[];
  wm?: { maxSeen: Record<string, number>; watermark: number };
}

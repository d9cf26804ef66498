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
import { CHANGELOG_SINK, type ChangelogMarker } from './changelog.ts';
import { ChangelogPacker } from './changelog-pack.ts';
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

/** The entry's records, starting with the marker; with `recordChanges`, a recorder that packs the commit's writes after it (changelog-pack.ts), and `finish` to call once the commit returns. */
export function changelogEntry(marker: ChangelogMarker, recordChanges: boolean): { records: SinkRecord[]; recorder: ChangeRecorder | undefined; finish: () => void } {
  const records: SinkRecord[] = [{ id: '', key: null, time: 0, value: { m: marker } }];
  if (!recordChanges) return { records, recorder: undefined, finish: () => {} };
  // The store reuses its key arrays between writes: the packer encodes the key at once.
  const packer = new ChangelogPacker(records);
  return { records, recorder: (d, k, v) => packer.add(d, k, v), finish: () => packer.finish() };
}

/**
 * Phase 1 of a checkpoint of a job with a changelog (or markers only):
 * appends the checkpoint's changelog entry to the epoch's outbox entries,
 * and returns the recorder that fills it while the commit runs, and what
 * the commit calls after the last write (CommitInput.recorded).
 */
export function appendChangelogEntry(
  entries: Array<{ sinkId: string; records: SinkRecord[]; recordsPerChunk?: number }>,
  marker: ChangelogMarker,
  recordChanges: boolean,
): { recorder: ChangeRecorder | undefined; recorded: () => void } {
  const entry = changelogEntry(marker, recordChanges);
  // A pack is up to 64 KiB (changelog-pack.ts): one per outbox value (state/outbox.ts).
  entries.push({ sinkId: CHANGELOG_SINK, records: entry.records, recordsPerChunk: 1 });
  return { recorder: entry.recorder, recorded: entry.finish };
}

/** What a checkpoint stores beside the positions (its `extra`): the acked epoch, custom sources' snapshots, the changelog markers this state wrote, event time. */
export interface CheckpointExtra {
  acked?: number;
  sources?: Record<string, unknown>;
  markers?: string[];
  wm?: { maxSeen: Record<string, number>; watermark: number };
}

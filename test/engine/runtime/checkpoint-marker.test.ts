import { describe, it, expect } from 'vitest';
import { Packr } from 'msgpackr';
import { appendChangelogEntry, changelogEntry } from '../../../engine/runtime/checkpoint-marker.ts';
import { CHANGELOG_SINK, encodeChangelogKey, type ChangelogMarker } from '../../../engine/runtime/changelog.ts';
import { forEachPacked, recordCount, type ChangelogPack } from '../../../engine/runtime/changelog-pack.ts';

const marker: ChangelogMarker = { token: 't-1', epoch: 1, positions: { 'orders:0': 10 }, at: 0 };

describe('changelog entry of a checkpoint', () => {
  it('records each write with its key encoded as restore reads it, safe from the reuse of the key array', () => {
    const { records, recorder, finish } = changelogEntry(marker, true);
    const key: unknown[] = ['p0', 'join', 'left', 'order-1'];
    recorder!('state', key as never, Buffer.from([0x91, 0x01]));
    key[3] = 'order-2'; // the store reuses its key arrays
    recorder!('state', key as never, null);
    recorder!('timers', ['p0', 'other', 'event', 5, 'k', null] as never, Buffer.from([1]));
    finish();
    expect((records[0].value as { m: ChangelogMarker }).m).toBe(marker);
    expect(records).toHaveLength(2);
    const changes: Array<[string, Buffer, Buffer | null]> = [];
    const pack = records[1].value as ChangelogPack;
    forEachPacked(pack, (op, k, v) => changes.push([pack.p[op], k, v]));
    // restoreFromChangelog decodes keys with a plain msgpack unpack: [db, ...lmdbKey].
    const unpack = new Packr({ useRecords: false });
    expect(changes.map((e) => unpack.unpack(e[1]))).toEqual([
      ['state', 'p0', 'join', 'left', 'order-1'],
      ['state', 'p0', 'join', 'left', 'order-2'],
      ['timers', 'p0', 'other', 'event', 5, 'k', null],
    ]);
    expect(changes.map((e) => e[0])).toEqual(['join', 'join', 'other']);
    expect(changes.map((e) => e[2] && [...e[2]])).toEqual([[0x91, 0x01], null, [1]]);
    expect(recordCount({ sinkId: CHANGELOG_SINK, records })).toBe(4);
  });

  it('has the outbox store each pack as a value of its own', () => {
    const entries: Parameters<typeof appendChangelogEntry>[0] = [{ sinkId: 'facts', records: [] }];
    appendChangelogEntry(entries, marker, true);
    expect(entries.map((e) => [e.sinkId, e.recordsPerChunk])).toEqual([['facts', undefined], [CHANGELOG_SINK, 1]]);
  });

  it('encodes keys byte for byte as the changelog did before (msgpack of [db, ...key])', () => {
    const before = new Packr({ useRecords: false });
    for (const k of [['p3', 'op', 'v', 42], ['p3', 'op', 'm', 'key', 'field'], ['p3', 'op', 'processing', -1.5, 'é😀', 'tag']]) {
      expect(Buffer.compare(encodeChangelogKey('state', k as never), before.pack(['state', ...k]))).toBe(0);
    }
  });

  it('records nothing without recordChanges (markers only)', () => {
    const { records, recorder } = changelogEntry(marker, false);
    expect(recorder).toBeUndefined();
    expect(records).toHaveLength(1);
  });
});

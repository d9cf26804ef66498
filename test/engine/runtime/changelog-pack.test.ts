import { describe, it, expect, afterEach } from 'vitest';
import type { SinkRecord } from '../../../engine/contracts/sinks.ts';
import { ChangelogPacker, PACK_BYTES, forEachPacked, recordCount, type ChangelogPack } from '../../../engine/runtime/changelog-pack.ts';
import { CHANGELOG_SINK } from '../../../engine/runtime/changelog.ts';
import { decodeChangelogKey } from '../../../engine/runtime/changelog-key.ts';
import { appendOutbox, readOutbox } from '../../../state/outbox.ts';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../../state/env.ts';
import { tempStateDir } from '../../state/helpers.ts';

// A checkpoint's changelog writes, packed (changelog-pack.ts): what comes out
// of a pack, after the outbox stored and read it back, is what went in.

type Change = [db: 'state' | 'timers', key: unknown[], value: Buffer | null];

function unpackAll(records: SinkRecord[]): Array<[string, unknown[], number[] | null]> {
  const out: Array<[string, unknown[], number[] | null]> = [];
  for (const r of records) {
    const pack = r.value as ChangelogPack;
    forEachPacked(pack, (op, k, v) => out.push([pack.p[op], decodeChangelogKey(k), v && [...v]]));
  }
  return out;
}

describe('ChangelogPacker', () => {
  let tmp: ReturnType<typeof tempStateDir> | undefined;
  let env: StateEnv | undefined;
  afterEach(async () => {
    if (env) await closeStateEnv(env);
    tmp?.cleanup();
    env = undefined;
    tmp = undefined;
  });

  it('gives back every change in order, across packs and through the outbox, with values larger than a pack', () => {
    const changes: Change[] = [];
    for (let i = 0; i < 5000; i++) {
      const op = i % 3 === 0 ? 'join' : 'dedupe';
      const value = i % 11 === 0 ? null : Buffer.alloc(i === 2500 ? PACK_BYTES * 2 : (i % 97) + 1, i % 256);
      changes.push([i % 5 === 0 ? 'timers' : 'state', ['p1', op, 'v', `key-${i}`], value]);
    }
    const records: SinkRecord[] = [];
    const packer = new ChangelogPacker(records);
    for (const [db, k, v] of changes) packer.add(db, k as never, v);
    packer.finish();
    // Closed at PACK_BYTES: several packs, each over the bound by at most its last record
    // (here at most about 140 bytes), but the large value, which has a pack of its own.
    expect(records.length).toBeGreaterThan(5);
    const sizes = records.map((r) => [(r.value as ChangelogPack).n, (r.value as ChangelogPack).b.length]);
    expect(sizes.filter(([n, len]) => n > 1 && len > PACK_BYTES + 140)).toEqual([]);
    expect(sizes.filter(([n, len]) => n === 1 && len > PACK_BYTES)).toHaveLength(1);
    // A pack waits in memory until its transaction commits: a short one (the last) holds no 64 KiB buffer.
    const last = (records.at(-1)!.value as ChangelogPack).b;
    expect(last.length).toBeLessThan(PACK_BYTES / 2);
    expect(last.buffer.byteLength).toBeLessThan(PACK_BYTES);
    expect(recordCount({ sinkId: CHANGELOG_SINK, records })).toBe(changes.length);
    const expected = changes.map(([db, k, v]) => [k[1], [db, ...k], v && [...v]]);
    expect(unpackAll(records)).toEqual(expected);

    // The outbox stores packs as msgpack and hands them back after a restart.
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const e = env;
    e.state.transactionSync(() => appendOutbox(e.outbox, 'p1', 7, [{ sinkId: CHANGELOG_SINK, records }]));
    const [batch] = readOutbox(e.outbox, 'p1');
    expect(batch.epoch).toBe(7);
    expect(unpackAll(batch.records as SinkRecord[])).toEqual(expected);
  });

  it('adds no record for a commit without changes', () => {
    const records: SinkRecord[] = [];
    new ChangelogPacker(records).finish();
    expect(records).toEqual([]);
  });
});

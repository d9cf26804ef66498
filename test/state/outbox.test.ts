import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { OUTBOX_CHUNK, ackOutbox, appendOutbox, readOutbox } from '../../state/outbox.ts';
import { tempStateDir } from './helpers.ts';

describe('outbox', () => {
  let tmp: ReturnType<typeof tempStateDir>;
  let env: StateEnv;
  afterEach(async () => {
    await closeStateEnv(env);
    tmp.cleanup();
  });

  it('keeps batches per epoch and sink, in order, until acknowledged', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    const store = new PartitionStore(env, 'p0');
    const big = Array.from({ length: OUTBOX_CHUNK * 2 + 7 }, (_, i) => ({ i }));
    store.commit({
      epoch: 1,
      positions: {},
      outbox: [
        { sinkId: 'z-sink', records: ['z1'] },
        { sinkId: 'a-sink', records: big },
        { sinkId: 'empty', records: [] },
      ],
    });
    store.commit({
      epoch: 2,
      positions: {},
      outbox: [
        { sinkId: 'a-sink', records: ['a2'] },
        { sinkId: 'a-sink', records: ['a2-more'] },
      ],
    });
    expect(store.readOutbox()).toEqual([
      { epoch: 1, sinkId: 'a-sink', records: big },
      { epoch: 1, sinkId: 'z-sink', records: ['z1'] },
      { epoch: 2, sinkId: 'a-sink', records: ['a2', 'a2-more'] },
    ]);
    // The ack applies before this epoch's appends, so acking up to the
    // current epoch keeps the records appended with it.
    store.commit({ epoch: 3, positions: {}, outbox: [{ sinkId: 's', records: [3] }], ackEpochsUpTo: 3 });
    expect(store.readOutbox()).toEqual([{ epoch: 3, sinkId: 's', records: [3] }]);
    store.commit({ epoch: 4, positions: {}, outbox: [], ackEpochsUpTo: 3 });
    expect(store.readOutbox()).toEqual([]);
  });

  it('belongs to its actor', () => {
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir);
    new PartitionStore(env, 'p1').commit({ epoch: 1, positions: {}, outbox: [{ sinkId: 's', records: [1] }] });
    new PartitionStore(env, 'p10').commit({ epoch: 5, positions: {}, outbox: [{ sinkId: 's', records: [10] }] });
    new PartitionStore(env, 'p1').commit({ epoch: 2, positions: {}, outbox: [], ackEpochsUpTo: 10 });
    expect(new PartitionStore(env, 'p1').readOutbox()).toEqual([]);
    expect(new PartitionStore(env, 'p10').readOutbox()).toEqual([{ epoch: 5, sinkId: 's', records: [10] }]);
  });

  it('acknowledges without reading the chunks back', () => {
    // An acknowledged chunk is only deleted: reading it would copy it out of
    // the map and fault in each of its overflow pages, and those file pages
    // stayed in the process's RSS (bench/notes/35-catchup-memory.md).
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const e = env;
    const big = Array.from({ length: OUTBOX_CHUNK * 3 }, (_, i) => ({ i, pad: 'x'.repeat(200) }));
    e.state.transactionSync(() => {
      appendOutbox(e.outbox, 'p0', 1, [{ sinkId: 's', records: big }]);
      appendOutbox(e.outbox, 'p0', 2, [{ sinkId: 's', records: ['kept'] }]);
    });
    const valuesRead: unknown[] = [];
    const spy = new Proxy(e.outbox, {
      get(target, prop, receiver) {
        if (prop === 'getRange' || prop === 'get' || prop === 'getBinary') {
          return (...args: unknown[]) => {
            const v = (Reflect.get(target, prop, receiver) as (...a: unknown[]) => unknown).apply(target, args);
            if (prop !== 'getRange' || (args[0] as { values?: boolean } | undefined)?.values !== false) valuesRead.push(prop);
            return v;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const removed = e.state.transactionSync(() => ackOutbox(spy, 'p0', 1));
    expect(removed.keys).toBe(3);
    expect(valuesRead).toEqual([]);
    expect(readOutbox(e.outbox, 'p0')).toEqual([{ epoch: 2, sinkId: 's', records: ['kept'] }]);
  });

  it('stores large records one per value when asked, and reads them back as one batch', () => {
    // The changelog's records are 64 KiB packs: 512 to a value made values of
    // up to 32 MiB (state/outbox.ts).
    tmp = tempStateDir();
    env = openStateEnv(tmp.dir, { noSync: true });
    const e = env;
    const packs = Array.from({ length: 5 }, (_, i) => ({ n: i, b: Buffer.alloc(64 * 1024, i) }));
    const written = e.state.transactionSync(() => appendOutbox(e.outbox, 'p0', 1, [{ sinkId: 'log', records: packs, recordsPerChunk: 1 }, { sinkId: 'out', records: [1, 2, 3] }]));
    expect(written.keys).toBe(5 + 1);
    expect(e.state.transactionSync(() => [...e.outbox.getRange({ start: ['p0'], end: ['p0', 2] })]).every(({ value }) => value.length < 66 * 1024)).toBe(true);
    const back = readOutbox(e.outbox, 'p0');
    expect(back.map((b) => [b.sinkId, b.records.length])).toEqual([['log', 5], ['out', 3]]);
    expect((back[0].records as Array<{ b: Uint8Array }>).map((r) => r.b[0])).toEqual([0, 1, 2, 3, 4]);
  });
});


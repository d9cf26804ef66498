import { describe, it, expect, afterEach } from 'vitest';
import { openStateEnv, closeStateEnv, type StateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import { OUTBOX_CHUNK } from '../../state/outbox.ts';
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
});

/**
 * Reads an actor written by fixtures/checkpoint-writer.ts and checks that it
 * holds exactly the checkpoint of one epoch, in every part. Returns the epoch.
 */
import { expect } from 'vitest';
import { openStateEnv, closeStateEnv } from '../../state/env.ts';
import { PartitionStore } from '../../state/partition-store.ts';
import type { Row } from './fixtures/checkpoint-writer.ts';

export async function verifyCheckpoint(dir: string, actorId: string, keys: number): Promise<number> {
  const env = openStateEnv(dir);
  try {
    const store = new PartitionStore(env, actorId, { cacheMaxEntries: 10 });
    const meta = store.readMeta();
    expect(meta).toBeDefined();
    const e = meta?.epoch as number;
    expect(meta).toEqual({ epoch: e, positions: { 'src:0': e * 10, 'src:1': e * 10 + 1 }, extra: { e } });

    const rows = store.valueState<Row>('op', 'rows');
    for (let i = 0; i < keys; i++) {
      const r = rows.get(i);
      if (r?.epoch !== e || r.i !== i) throw new Error(`epoch ${e}: row ${i} is ${JSON.stringify(r)}`);
    }
    expect(rows.get(`only-${e}`)?.epoch).toBe(e);
    expect(rows.get(`only-${e - 1}`)).toBeUndefined();
    expect(rows.get('uncommitted')).toBeUndefined();

    const fields = store.mapState<number>('op', 'fields');
    for (let k = 0; k < 10; k++) {
      const entries = fields.entries(k);
      const expected: Array<[number, number]> = [];
      for (let i = k; i < keys; i += 10) expected.push([i, e]);
      expect(entries).toEqual(expected);
    }

    const timers = store.timers('op');
    expect(timers.popDue('event', Infinity).map((t) => [t.ts, t.key])).toEqual([[e, 'marker']]);

    const expectedOutbox = [];
    for (const ep of e >= 2 ? [e - 1, e] : [e]) {
      expectedOutbox.push({ epoch: ep, sinkId: 's', records: [ep, ep] }, { epoch: ep, sinkId: 't', records: [{ e: ep }] });
    }
    expect(store.readOutbox()).toEqual(expectedOutbox);
    expect(store.stats()).toMatchObject({ stateKeys: 2 * keys + 1, dirtyEntries: 0 });
    store.close();
    return e;
  } finally {
    await closeStateEnv(env);
  }
}

import { kGetApi, kListApis, produceV11 } from '@platformatic/kafka';
import { describe, expect, it } from 'vitest';
import { fastProduceApi } from '../../../engine/kafka/produce-request.ts';
import { createClient } from '../../../engine/kafka/producer-client.ts';

type Api = { key: number; version: number };

/** The API a client picks for `name` when the broker offers versions min..max (no broker: the listing is given). */
function pick(maxProduce: number, name: string): Promise<Api> {
  const client = createClient({ brokers: ['127.0.0.1:1'], clientId: 't' }, {}, false) as unknown as Record<symbol, unknown>;
  client[kListApis] = (cb: (e: null, apis: unknown[]) => void) =>
    cb(null, [
      { name: 'Produce', minVersion: 3, maxVersion: maxProduce },
      { name: 'Metadata', minVersion: 0, maxVersion: 12 },
    ]);
  return new Promise((resolve, reject) => {
    (client[kGetApi] as (n: string, cb: (e: Error | null, api?: Api) => void) => void)(name, (e, api) => (e ? reject(e) : resolve(api!)));
  });
}

describe('the engine producer client', () => {
  it("encodes Produce requests with the engine's encoder where it has one, and leaves other APIs and versions to the client", async () => {
    const v11 = await pick(11, 'Produce');
    expect(v11).toBe(fastProduceApi(11));
    expect(v11).not.toBe(produceV11.api);
    const v8 = await pick(8, 'Produce');
    expect(v8.version).toBe(8);
    expect(fastProduceApi(8)).toBeUndefined();
    const md = await pick(11, 'Metadata');
    expect(md.key).toBe(3);
  });
});

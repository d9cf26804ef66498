import { createRecordsBatch, NumericMap, produceV11, Reader, readRecordsBatch } from '@platformatic/kafka';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createProduceRequest, encodeRecordBatch, fastProduceApi, type RequestMessage, type RequestOptions } from '../../../engine/kafka/produce-request.ts';

/** Messages as the client's #send hands them over (fresh objects each call: the client's encoder mutates them). */
function messages(): RequestMessage[] {
  const big = Buffer.alloc(20_000, 7);
  const headers = new Map<Uint8Array, Uint8Array | null>([
    [Buffer.from('h1'), Buffer.from('v1')],
    [Buffer.from(''), Buffer.alloc(300, 1)],
  ]);
  return [
    { topic: 'orders', partition: 1, key: Buffer.from('k1'), value: Buffer.from('{"a":1}'), headers: new Map(), timestamp: 1_700_000_000_000n },
    { topic: 'orders', partition: 0, key: undefined, value: null, headers: new Map(), timestamp: 1_699_999_999_000n },
    { topic: '7', partition: 2, key: Buffer.alloc(0), value: Buffer.alloc(0), headers, timestamp: 1_700_000_000_500n },
    { topic: 'orders', partition: 1, key: Buffer.from('k2'), value: big, headers: new Map(), timestamp: 1_700_000_000_001n },
    // Deltas near ±2^31 ms (the client's zigzag is right only within them: see below).
    { topic: 'orders', partition: 1, key: Buffer.from('k3'), value: Buffer.from('x'), headers: new Map(), timestamp: 1_700_000_000_000n + 2_000_000_000n },
    { topic: 'orders', partition: 1, key: Buffer.from('k4'), value: Buffer.alloc(130, 2), headers: new Map(), timestamp: 1_700_000_000_000n - 2_000_000_000n },
    ...Array.from({ length: 300 }, (_, i): RequestMessage => ({ topic: '7', partition: 0, key: Buffer.from(`key-${i}`), value: Buffer.from(`value-${i}`), headers: new Map(), timestamp: BigInt(1_700_000_000_000 + i) })),
  ];
}

const options = (): RequestOptions => {
  const sequences = new NumericMap();
  sequences.set('orders:1', 41);
  sequences.set('7:0', 2_000_000_000);
  return { producerId: 123_456_789_012n, producerEpoch: 7, transactionalId: 'tx-1', sequences };
};

afterEach(() => {
  vi.useRealTimers();
});

describe('produce request', () => {
  it("encodes a partition's record batch byte for byte as the client does", () => {
    const ours = encodeRecordBatch(messages().filter((m) => m.topic === 'orders' && m.partition === 1), options(), 0);
    const theirs = createRecordsBatch(messages().filter((m) => m.topic === 'orders' && m.partition === 1) as never, options() as never).buffer;
    expect(ours.equals(theirs)).toBe(true);
    // And reads back as what was written.
    const batch = readRecordsBatch(Reader.from(ours));
    expect(batch.records.map((r) => String(r.key))).toEqual(['k1', 'k2', 'k3', 'k4']);
    expect(batch.records[1].value?.length).toBe(20_000);
    expect(batch.firstSequence).toBe(41);
    expect(batch.producerId).toBe(123_456_789_012n);
  });

  it('encodes timestamp deltas beyond 2^31 ms as Kafka reads them (the client zigzags them with a 32-bit shift)', () => {
    const base = 1_700_000_000_000;
    const times = [base, base + 5_000_000_000, 1, base + 1];
    const ms = times.map((t, i): RequestMessage => ({ topic: 't', partition: 0, key: Buffer.from(`k${i}`), value: Buffer.from('v'), headers: new Map(), timestamp: BigInt(t) }));
    const batch = readRecordsBatch(Reader.from(encodeRecordBatch(ms, {}, 0)));
    expect(batch.firstTimestamp).toBe(BigInt(base));
    expect(batch.maxTimestamp).toBe(BigInt(base + 5_000_000_000));
    expect(batch.records.map((r) => Number(batch.firstTimestamp + r.timestampDelta))).toEqual(times);
    // The client's own encoding of the same batch does not read back: the reason this test is here.
    const theirs = readRecordsBatch(Reader.from(createRecordsBatch(ms.map((m) => ({ ...m })) as never, {}).buffer));
    expect(theirs.records.map((r) => Number(theirs.firstTimestamp + r.timestampDelta))).not.toEqual(times);
  });

  it('encodes a whole request (topics, partitions, idempotent and plain batches) as the client does', () => {
    for (const opts of [options(), {} as RequestOptions, { producerId: 5n, producerEpoch: 0, sequences: new NumericMap() } as RequestOptions]) {
      const ours = createProduceRequest(-1, 30_000, messages(), opts).buffer;
      const theirs = produceV11.createRequest(-1, 30_000, messages() as never, opts as never).buffer;
      expect(ours.equals(theirs)).toBe(true);
    }
  });

  it('stamps records without a timestamp with the same now as the client', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_765_000_000_000);
    const plain = (): RequestMessage[] => messages().map(({ timestamp: _t, ...m }) => m);
    const ours = createProduceRequest(1, 1000, plain(), options()).buffer;
    const theirs = produceV11.createRequest(1, 1000, plain() as never, options() as never).buffer;
    expect(ours.equals(theirs)).toBe(true);
  });

  it('stamps a null timestamp with now, writes the stamp into the message (a re-send keeps it) and refuses a fractional one', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(1_765_000_000_000);
    const ms: RequestMessage[] = [
      { topic: 't', key: Buffer.from('a'), value: Buffer.from('1'), timestamp: null },
      { topic: 't', partition: 0, key: Buffer.from('b'), value: Buffer.from('2') },
    ];
    const first = createProduceRequest(-1, 1000, ms, {}).buffer;
    expect(ms.map((m) => [m.partition, m.timestamp])).toEqual([
      [0, 1_765_000_000_000n],
      [0, 1_765_000_000_000n],
    ]);
    vi.setSystemTime(1_765_000_009_000);
    expect(createProduceRequest(-1, 1000, ms, {}).buffer.equals(first)).toBe(true);
    // The client's request for the same messages at the first time: the same bytes.
    vi.setSystemTime(1_765_000_000_000);
    const plain = [{ topic: 't', key: Buffer.from('a'), value: Buffer.from('1') }, { topic: 't', partition: 0, key: Buffer.from('b'), value: Buffer.from('2') }];
    expect(produceV11.createRequest(-1, 1000, plain as never, {} as never).buffer.equals(first)).toBe(true);
    expect(() => createProduceRequest(-1, 1000, [{ topic: 't', value: Buffer.from('x'), timestamp: 1.5 }], {})).toThrow(RangeError);
  });

  it('is the Produce API for versions 9 to 11 only, and leaves compressed requests to the client', () => {
    expect(fastProduceApi(8)).toBeUndefined();
    const api = fastProduceApi(11) as { key: number; version: number };
    expect([api.key, api.version]).toEqual([0, 11]);
    expect(fastProduceApi(11)).toBe(api);
  });
});

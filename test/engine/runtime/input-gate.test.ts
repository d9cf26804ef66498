/**
 * The gate's two roads for a Kafka batch of JSON: admitAt (values parsed
 * from the batch's text, the worker's road) and admitBytes (one record's
 * bytes, decodeWith) must admit the same values with the same event times,
 * and refuse the same records with the same dead letters (reason, message,
 * limit, raw bytes, key), whatever the bytes: records cut in the middle of a
 * character, byte-order marks, invalid UTF-8, records near every limit.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PipelineBuilder } from '../../../engine/contracts/pipeline.ts';
import type { SinkDelivery, SinkDriver } from '../../../engine/contracts/sinks.ts';
import type { KafkaSourceSpec } from '../../../engine/contracts/sources.ts';
import { InputGate } from '../../../engine/runtime/input-gate.ts';
import { jsonTextWithin, scanJson } from '../../../engine/runtime/input-limits.ts';
import { PartitionActor } from '../../../engine/runtime/partition-actor.ts';
import { encodeRecordBatch, type RawRecord } from '../../../engine/runtime/record-batch.ts';
import { openActorStore, openStoreEnv } from '../../../engine/runtime/stores.ts';
import { DEAD_LETTER_SINK } from '../../../engine/runtime/topology.ts';
import { resolveCodec } from '../../../engine/sources/codecs.ts';
import { tempDir } from '../../helpers/temp.ts';

/** A sink that keeps what it is given. */
class KeepingSink implements SinkDriver {
  readonly got: unknown[] = [];
  open = async (): Promise<void> => {};
  close = async (): Promise<void> => {};
  deliver = async (d: SinkDelivery): Promise<void> => {
    this.got.push(...d.records.map((r) => r.value));
  };
}

const spec: KafkaSourceSpec<{ id?: unknown; t?: number }> = {
  kind: 'kafka',
  topic: 'in',
  codec: 'json',
  timestamp: (v) => v.t ?? NaN,
  validate: (v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && 'id' in v ? undefined : 'no id'),
  limits: { maxDepth: 4, maxStringLength: 40, maxValueBytes: 200 },
};

/** What one road makes of `batches`: the admitted values and times, and the dead letters. */
async function road(batches: RawRecord[][], how: 'batch' | 'bytes', watermark?: number): Promise<{ admitted: unknown[]; letters: unknown[]; watermark: number }> {
  process.env.SLUICE_STATE_NOSYNC = '1';
  const env = openStoreEnv(tempDir());
  const store = openActorStore(env, 'p0', { cacheMaxEntries: 100 });
  const b = new PipelineBuilder();
  b.source('in').to('out');
  const dlq = new KeepingSink();
  const actor = new PartitionActor({
    job: 'gate',
    actorId: 'p0',
    partition: 0,
    inputs: [{ sourceId: 'in', watermark: { maxOutOfOrdernessMs: 0, idleTimeoutMs: 0 } }],
    nodes: b.nodes,
    store: store.store,
    sinks: new Map<string, SinkDriver>([['out', new KeepingSink()], [DEAD_LETTER_SINK, dlq]]),
    checkpointIntervalMs: 1e12,
    now: () => 0,
  });
  actor.open();
  if (watermark !== undefined) actor.observeEventTime(0, watermark);
  const wm = actor.currentWatermark();
  const gate = new InputGate(actor, 0, watermark === undefined ? spec : { ...spec, limits: { ...spec.limits, maxEventTimeAheadMs: 60_000, maxEventTimeBehindMs: 10_000 } }, resolveCodec('json'));
  const admitted: unknown[] = [];
  for (const recs of batches) {
    if (how === 'batch') {
      const w = encodeRecordBatch(recs);
      for (let i = 0; i < recs.length; i++) if (gate.admitAt(w, i)) admitted.push({ offset: recs[i].offset, value: gate.value, time: gate.time });
      gate.endBatch();
    } else {
      for (const r of recs) if (gate.admitBytes(r.offset, r.key ?? null, r.value, r.timestamp)) admitted.push({ offset: r.offset, value: gate.value, time: gate.time });
    }
  }
  await actor.checkpoint();
  await actor.drainDeliveries();
  actor.destroy();
  store.close();
  await env.close();
  // How far ahead of the wall clock a record is depends on when it was read.
  const letters = (dlq.got as Array<{ reason: string; limit?: { actual?: number }; error?: { message?: string } }>).map((l) =>
    l.reason === 'event_time_out_of_range' ? { ...l, limit: { ...l.limit, actual: 'now' }, error: { ...l.error, message: l.error?.message?.replace(/ \d+ ms ahead/, ' ms ahead') } } : l,
  );
  return { admitted, letters, watermark: wm };
}

const T = Date.UTC(2026, 0, 1);
const utf8 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const bytes = (...parts: Array<string | number[]>): Uint8Array => new Uint8Array(Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p)))));

/** Values that pass and values refused at every step, each with the reason it must get (undefined: admitted). */
const cases: Array<[Uint8Array | null, string | undefined]> = [
  [utf8(`{"id":1,"t":${T}}`), undefined],
  [utf8(`{"id":"été 😀","t":${T}}`), undefined],
  [bytes([0xef, 0xbb, 0xbf], `{"id":2,"t":${T}}`), undefined], // TextDecoder drops the byte-order mark
  [utf8(`{"id":3,"t":${T},"a":"[[[[[[[[{{{{"}`), undefined], // brackets in strings: no depth
  [utf8(`{"id":4,"t":${T},"a":[[[1]]]}`), undefined], // depth 4
  [utf8(`{"id":5,"t":${T},"a":[[[[1]]]]}`), 'limit_exceeded'], // depth 5
  [utf8(`{"id":6,"t":${T},"a":"${'x'.repeat(41)}"}`), 'limit_exceeded'],
  [utf8(`{"id":7,"t":${T},"a":"${'x'.repeat(40)}"}`), undefined],
  [utf8(`{"id":8,"t":${T},"a":"${'x'.repeat(180)}"}`), 'limit_exceeded'], // maxValueBytes
  [utf8(''), 'decode_error'],
  [utf8('{"id":'), 'decode_error'],
  [utf8('not json'), 'decode_error'],
  [null, 'validation_failed'],
  [utf8('42'), 'validation_failed'],
  [utf8(`{"t":${T}}`), 'validation_failed'],
  [utf8(`{"id":9,"t":${Date.UTC(9999, 0, 1)}}`), 'event_time_out_of_range'],
  [utf8(`{"id":10}`), undefined], // no event time: the record's
];

function records(values: Array<Uint8Array | null>, from: number): RawRecord[] {
  return values.map((value, i) => ({ offset: from + i, timestamp: T + i, value, key: i % 2 === 0 ? utf8(`k${from + i}`) : null }));
}

describe('input gate: a Kafka batch of JSON', () => {
  it('admitAt and admitBytes agree on every value, letter and reason', async () => {
    const values = cases.map(([v]) => v);
    const batches = [
      records(values, 0),
      // One character cut across two records: the batch as a whole is UTF-8, neither record is.
      records([bytes('{"id":"', [0xc3]), bytes([0xa9], '"}'), utf8(`{"id":11,"t":${T}}`)], 100),
      // Invalid UTF-8 inside a string: the whole batch goes the general way.
      records([utf8(`{"id":12,"t":${T}}`), bytes('{"id":"', [0xff, 0xfe], '"}')], 200),
    ];
    const a = await road(batches, 'batch');
    const b = await road(batches, 'bytes');
    expect(a).toEqual(b);
    const reasons = new Map((b.letters as Array<{ offset: number; reason: string }>).map((l) => [l.offset, l.reason]));
    cases.forEach(([, reason], i) => expect(reasons.get(i)).toBe(reason));
    expect([reasons.get(100), reasons.get(101), reasons.get(102), reasons.get(200), reasons.get(201)]).toEqual(['decode_error', 'decode_error', undefined, undefined, 'decode_error']);
    expect(a.admitted).toContainEqual({ offset: 1, value: { id: 'été 😀', t: T }, time: T });
    expect(a.admitted).toContainEqual({ offset: 16, value: { id: 10 }, time: T + 16 });
  });

  it('with a watermark: the event-time range is checked against it and the wall clock, whichever is later', async () => {
    const at = (t: number, id: number): Uint8Array => utf8(`{"id":${id},"t":${t}}`);
    const now = Date.now();
    const batch = records([at(T, 1), at(T + 59_000, 2), at(T + 61_000, 3), at(T - 9_000, 4), at(T - 11_000, 5), at(now + 3_600_000, 6), at(Date.UTC(9999, 0, 1), 7)], 0);
    // A watermark ahead of the wall clock, and one behind it (a replay of old data).
    for (const wm of [T, Math.max(T, now + 86_400_000)]) {
      const recs = wm === T ? batch : batch.map((r, i) => ({ ...r, value: at(wm + [0, 59_000, 61_000, -9_000, -11_000, 3_600_000, 0][i] + (i === 6 ? Date.UTC(9999, 0, 1) - wm : 0), i + 1) }));
      const a = await road([recs], 'batch', wm);
      const b = await road([recs], 'bytes', wm);
      expect(a.watermark).toBe(wm);
      expect(a).toEqual(b);
      const reasons = (b.letters as Array<{ offset: number; limit: { name: string } }>).map((l) => [l.offset, l.limit.name]);
      // Behind the watermark by more than 10 s: always; ahead by more than 60 s: only when the watermark is later than the clock.
      expect(reasons).toEqual(wm === T ? [[4, 'maxEventTimeBehindMs'], [5, 'maxEventTimeAheadMs'], [6, 'maxEventTimeAheadMs']] : [[2, 'maxEventTimeAheadMs'], [4, 'maxEventTimeBehindMs'], [5, 'maxEventTimeAheadMs'], [6, 'maxEventTimeAheadMs']]);
    }
  });

  it('jsonTextWithin is a bound: when it says within, scanJson finds nothing', () => {
    const piece = fc.constantFrom('{', '}', '[', ']', '"', '\\', 'a', ':', ',', '1', 'é');
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 60 }), fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 30 }), (ps, maxDepth, maxString) => {
        const text = ps.join('');
        const b = Buffer.from(text);
        if (jsonTextWithin(text, b.length, maxDepth, maxString)) expect(scanJson(b, maxDepth, maxString)).toBeUndefined();
      }),
      { numRuns: 5000 },
    );
  });
});

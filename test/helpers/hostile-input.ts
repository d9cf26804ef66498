/**
 * The hostile-input property test's generator and checker (issue 18),
 * shared by the jobs it runs against (test/integration/hostile-input.test.ts).
 *
 * fast-check generates runs: each run is a small batch of records, valid ones
 * mixed with hostile ones, every record with a unique key and what it must
 * become: `valid` (the job's output has it exactly once), `invalid` with the
 * reason its one dead letter must carry, or `refused` (over the broker's
 * message limit: the producer's send must fail, so it never reaches the job).
 * One job process consumes every run; the checker runs over all runs at the end.
 *
 * A job supplies a valid record for an id (`valid(id, n)`, n orders event
 * times) and the job-specific defects (`defects`): wrong types, numbers
 * such as 1e400, impossible dates. The shared defects:
 *   - nesting 1..100,000 levels in an extra field: valid up to maxDepth (64), else limit_exceeded;
 *   - strings of `"` and `\` (each escaped to 2 bytes): valid up to maxStringLength (262,144 bytes), else limit_exceeded;
 *   - values at the broker limit (four 250,000-byte strings: valid; one 1,000,000-byte string: limit_exceeded) and over it (refused);
 *   - invalid UTF-8 inside a JSON string, empty values, text that is not JSON: decode_error;
 *   - the null value (tombstone), JSON scalars and arrays: validation_failed.
 */
import fc from 'fast-check';

export const MAX_DEPTH = 64;
export const MAX_STRING = 262_144;

export type Expect = { kind: 'valid'; id: string } | { kind: 'invalid'; reason: string; limit?: string } | { kind: 'refused' };

export interface GenRecord {
  topic: string;
  key: string;
  value: Buffer | null;
  expect: Expect;
}

export interface JobShape {
  /** The input topic hostile records go to. */
  topic: string;
  /** A valid record for `id` (its event time ordered by `n`), as an object to add fields to, plus any companion records (a payment). */
  valid(id: string, n: number): { value: Record<string, unknown>; companions?: GenRecord[] };
  /** Job-specific defects of a valid record: JSON text and the reason it must be dead-lettered with. */
  defects: Array<(id: string, n: number) => { text: string | Buffer; reason: string; limit?: string }>;
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** `{..., "<field>": <raw JSON>}`: splices raw JSON text (1e400, deep nesting) into an object. */
export function withRaw(v: Record<string, unknown>, field: string, raw: string): string {
  return JSON.stringify(v).replace(/}$/, `,${JSON.stringify(field)}:${raw}}`);
}

type Shared = { weight: number; arbitrary: fc.Arbitrary<(shape: JobShape, id: string, n: number) => GenRecord[]> };

function one(shape: JobShape, key: string, value: Buffer | null, expect: Expect): GenRecord[] {
  return [{ topic: shape.topic, key, value, expect }];
}

function validWith(shape: JobShape, id: string, n: number, field: string, raw: string | undefined, expect: Expect | undefined): GenRecord[] {
  const v = shape.valid(id, n);
  const text = raw === undefined ? json(v.value) : Buffer.from(withRaw(v.value, field, raw));
  const e = expect ?? { kind: 'valid', id };
  // A companion (a payment) only for a record that must come through: an invalid one stays alone.
  return [{ topic: shape.topic, key: id, value: text, expect: e }, ...(e.kind === 'valid' ? (v.companions ?? []) : [])];
}

const shared: Shared[] = [
  { weight: 6, arbitrary: fc.constant((s: JobShape, id: string, n: number) => validWith(s, id, n, '', undefined, undefined)) },
  {
    weight: 3,
    arbitrary: fc.oneof(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 100_000 })).map((d) => (s: JobShape, id: string, n: number) => {
      // The record is an object (depth 1) holding the arrays: depth 1 + d.
      const deep = '['.repeat(d) + ']'.repeat(d);
      return validWith(s, id, n, 'deep', deep, 1 + d > MAX_DEPTH ? { kind: 'invalid', reason: 'limit_exceeded', limit: 'maxDepth' } : undefined);
    }),
  },
  {
    weight: 3,
    arbitrary: fc.tuple(fc.oneof(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 130_000, max: 132_000 }), fc.integer({ min: 0, max: 200_000 })), fc.integer()).map(([len, seed]) => (s: JobShape, id: string, n: number) => {
      let x = seed;
      let str = '';
      for (let i = 0; i < len; i++) {
        x = (Math.imul(x, 1103515245) + 12345) | 0;
        str += x & 0x100 ? '"' : '\\';
      }
      // Each `"` and `\` is two bytes of JSON text.
      return validWith(s, id, n, 'quotes', JSON.stringify(str), 2 * len > MAX_STRING ? { kind: 'invalid', reason: 'limit_exceeded', limit: 'maxStringLength' } : undefined);
    }),
  },
  { weight: 1, arbitrary: fc.constant((s: JobShape, id: string, n: number) => validWith(s, id, n, 'big', JSON.stringify(Array.from({ length: 4 }, () => 'a'.repeat(250_000))), undefined)) },
  { weight: 1, arbitrary: fc.constant((s: JobShape, id: string, n: number) => validWith(s, id, n, 'big', JSON.stringify('a'.repeat(1_000_000)), { kind: 'invalid', reason: 'limit_exceeded', limit: 'maxStringLength' })) },
  { weight: 1, arbitrary: fc.constant((s: JobShape, id: string) => one(s, id, Buffer.alloc(1_100_000, 0x61), { kind: 'refused' })) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(0xff, 0xfe, 0xc0, 0x80).map((b) => (s: JobShape, id: string, n: number) => {
      const text = JSON.stringify(s.valid(id, n).value);
      const at = text.indexOf(id) + 1;
      return one(s, id, Buffer.concat([Buffer.from(text.slice(0, at)), Buffer.from([b]), Buffer.from(text.slice(at))]), { kind: 'invalid', reason: 'decode_error' });
    }),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom<[Buffer | null, string]>(
      [Buffer.alloc(0), 'decode_error'],
      [Buffer.from('{"oops'), 'decode_error'],
      [Buffer.from('"'.repeat(1000)), 'decode_error'],
      [Buffer.from('\\\\\\"'), 'decode_error'],
      [Buffer.from('NaN'), 'decode_error'],
      [null, 'validation_failed'],
      [Buffer.from('null'), 'validation_failed'],
      [Buffer.from('-0'), 'validation_failed'],
      [Buffer.from('1e400'), 'validation_failed'],
      [Buffer.from('"NaN"'), 'validation_failed'],
      [Buffer.from('[]'), 'validation_failed'],
      [Buffer.from('{}'), 'validation_failed'],
    ).map(([value, reason]) => (s: JobShape, id: string) => one(s, id, value, { kind: 'invalid', reason })),
  },
];

/** One run: 1 to 6 records, valid and hostile mixed. */
export function runArbitrary(shape: JobShape): fc.Arbitrary<Array<(id: string, n: number) => GenRecord[]>> {
  const specific = shape.defects.map((d) => ({
    weight: 1,
    arbitrary: fc.constant((s: JobShape, id: string, n: number): GenRecord[] => {
      const r = d(id, n);
      return one(s, id, Buffer.isBuffer(r.text) ? r.text : Buffer.from(r.text), { kind: 'invalid', reason: r.reason, limit: r.limit });
    }),
  }));
  const record = fc.oneof(...shared, ...specific);
  return fc.array(record, { minLength: 1, maxLength: 6 }).map((fs) => fs.map((f) => (id: string, n: number) => f(shape, id, n)));
}

/** What the checker found wrong, one line each (empty: the property holds). */
export function check(records: readonly GenRecord[], letters: ReadonlyArray<{ key: string | null; reason: string; limit?: { name: string } }>, output: ReadonlyMap<string, number>): string[] {
  const problems: string[] = [];
  const byKey = new Map<string, Array<{ reason: string; limit?: { name: string } }>>();
  for (const l of letters) {
    const k = l.key ?? '(null)';
    const list = byKey.get(k) ?? [];
    list.push(l);
    byKey.set(k, list);
  }
  for (const r of records) {
    const got = byKey.get(r.key) ?? [];
    const e = r.expect;
    if (e.kind === 'valid') {
      if ((output.get(e.id) ?? 0) !== 1) problems.push(`${r.key}: valid, in the output ${output.get(e.id) ?? 0} times`);
      if (got.length) problems.push(`${r.key}: valid, dead-lettered as ${got.map((g) => g.reason).join(', ')}`);
    } else if (e.kind === 'invalid') {
      if (got.length !== 1 || got[0].reason !== e.reason || (e.limit !== undefined && got[0].limit?.name !== e.limit)) {
        problems.push(`${r.key}: want one ${e.reason}${e.limit ? ` (${e.limit})` : ''}, got [${got.map((g) => `${g.reason}${g.limit ? ` (${g.limit.name})` : ''}`).join(', ')}]`);
      }
      if ((output.get(r.key) ?? 0) !== 0) problems.push(`${r.key}: invalid, yet in the output`);
    } else if (got.length) problems.push(`${r.key}: refused by the broker, yet dead-lettered`);
  }
  return problems;
}

/**
 * Incremental, mergeable aggregations for window operators.
 *
 * An aggregator folds records into an accumulator (`add`), combines two
 * accumulators (`merge`: hopping windows merge their panes, session windows
 * merge sessions), and turns one into a result. Accumulators live in keyed
 * LMDB state, so they must be plain data (numbers, strings, arrays, plain
 * objects) that msgpack round-trips.
 *
 * Contract: `add(acc, ...)` and `merge(a, b)` may mutate and return their
 * first argument and must never mutate `b`; operators always store what they
 * return. `create()` returns a fresh accumulator each call.
 */

export interface Aggregator<I, A, R> {
  create(): A;
  add(acc: A, value: I, time: number): A;
  merge(a: A, b: A): A;
  result(acc: A): R;
}

/** Number of records. */
export function count<I = unknown>(): Aggregator<I, number, number> {
  return { create: () => 0, add: (a) => a + 1, merge: (a, b) => a + b, result: (a) => a };
}

/** Sum of `fn(value)`; non-finite values (absent fields) count as 0. */
export function sum<I>(fn: (value: I) => number | null | undefined): Aggregator<I, number, number> {
  return {
    create: () => 0,
    add: (a, v) => {
      const x = fn(v);
      return typeof x === 'number' && Number.isFinite(x) ? a + x : a;
    },
    merge: (a, b) => a + b,
    result: (a) => a,
  };
}

/** Minimum of `fn(value)`, null when there was none. */
export function min<I>(fn: (value: I) => number | null | undefined): Aggregator<I, number | null, number | null> {
  return {
    create: () => null,
    add: (a, v) => {
      const x = fn(v);
      return typeof x === 'number' && (a === null || x < a) ? x : a;
    },
    merge: (a, b) => (a === null ? b : b === null ? a : Math.min(a, b)),
    result: (a) => a,
  };
}

/** Maximum of `fn(value)`, null when there was none. */
export function max<I>(fn: (value: I) => number | null | undefined): Aggregator<I, number | null, number | null> {
  return {
    create: () => null,
    add: (a, v) => {
      const x = fn(v);
      return typeof x === 'number' && (a === null || x > a) ? x : a;
    },
    merge: (a, b) => (a === null ? b : b === null ? a : Math.max(a, b)),
    result: (a) => a,
  };
}

/** Smallest and largest event time seen (for a session's length, for instance). */
export function timeRange<I = unknown>(): Aggregator<I, [number, number] | null, { first: number; last: number } | null> {
  return {
    create: () => null,
    add: (a, _v, t) => {
      if (a === null) return [t, t];
      if (t < a[0]) a[0] = t;
      if (t > a[1]) a[1] = t;
      return a;
    },
    // A copy when `a` is empty: the result may be mutated later, `b` must not be.
    merge: (a, b) => (b === null ? a : a === null ? [b[0], b[1]] : [Math.min(a[0], b[0]), Math.max(a[1], b[1])]),
    result: (a) => (a === null ? null : { first: a[0], last: a[1] }),
  };
}

/**
 * Exact count of distinct non-null values of `fn(value)`, as SQL's
 * COUNT(DISTINCT x): null and undefined are not counted. The accumulator is
 * an object whose keys are the values tagged with their type ("s:" string,
 * "n:" number, "b:" boolean), so 1 and "1" stay distinct and no value can
 * collide with an object's built-in keys; `n` caches the key count. Memory
 * grows with the number of distinct values per window.
 */
export interface DistinctAcc {
  n: number;
  v: Record<string, 1>;
}

export function countDistinct<I>(fn: (value: I) => string | number | boolean | null | undefined): Aggregator<I, DistinctAcc, number> {
  return {
    create: () => ({ n: 0, v: {} }),
    add: (a, value) => {
      const x = fn(value);
      if (x === null || x === undefined) return a;
      const k = (typeof x)[0] + ':' + String(x);
      if (a.v[k] !== 1) {
        a.v[k] = 1;
        a.n++;
      }
      return a;
    },
    merge: (a, b) => {
      for (const k of Object.keys(b.v)) {
        if (a.v[k] !== 1) {
          a.v[k] = 1;
          a.n++;
        }
      }
      return a;
    },
    result: (a) => a.n,
  };
}

type AccOf<M> = { [K in keyof M]: M[K] extends Aggregator<never, infer A, unknown> ? A : never };
type ResultOf<M> = { [K in keyof M]: M[K] extends Aggregator<never, unknown, infer R> ? R : never };

/**
 * Several aggregations of the same records at once, by name:
 * `aggregate({ edits: count(), comments: countDistinct((e) => e.comment) })`
 * gives results like `{ edits: 12, comments: 7 }`.
 */
export function aggregate<I, M extends Record<string, Aggregator<I, unknown, unknown>>>(parts: M): Aggregator<I, AccOf<M>, ResultOf<M>> {
  const names = Object.keys(parts);
  const aggs = names.map((n) => parts[n]);
  return {
    create: () => {
      const acc: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) acc[names[i]] = aggs[i].create();
      return acc as AccOf<M>;
    },
    add: (acc, value, time) => {
      const a = acc as Record<string, unknown>;
      for (let i = 0; i < names.length; i++) a[names[i]] = aggs[i].add(a[names[i]], value, time);
      return acc;
    },
    merge: (x, y) => {
      const a = x as Record<string, unknown>;
      const b = y as Record<string, unknown>;
      for (let i = 0; i < names.length; i++) a[names[i]] = aggs[i].merge(a[names[i]], b[names[i]]);
      return x;
    },
    result: (acc) => {
      const a = acc as Record<string, unknown>;
      const out: Record<string, unknown> = {};
      for (let i = 0; i < names.length; i++) out[names[i]] = aggs[i].result(a[names[i]]);
      return out as ResultOf<M>;
    },
  };
}

/**
 * The benchmark harness: option parsing, figure summaries, and the README
 * tables (goal met / missed, missing figures, generic result files).
 */
import { describe, expect, it } from 'vitest';
import { figure, missingFigure } from '../../bench/bench-harness.ts';
import { generic, pivot } from '../../bench/render-readme.ts';
import { parseOptions } from '../../bench/run.ts';

describe('bench options', () => {
  const defaults = { events: 1000, runs: 3, queries: 'q0,q1', keepTopics: false };

  it('coerces to the default types and keeps the rest', () => {
    expect(parseOptions(defaults, ['--events', '2_000', '--keepTopics', '--queries=q5'])).toEqual({ events: 2000, runs: 3, queries: 'q5', keepTopics: true });
  });

  it('rejects unknown options and non-numbers', () => {
    expect(() => parseOptions(defaults, ['--evnts', '5'])).toThrow(/unknown option --evnts/);
    expect(() => parseOptions(defaults, ['--runs', 'many'])).toThrow(/--runs must be a number/);
  });
});

describe('figures', () => {
  it('summarizes runs as median, min and max', () => {
    const f = figure({ q: 'q0' }, 'events/s', 'events/s', [300, 100, 200, 1000]);
    expect([f.median, f.min, f.max]).toEqual([250, 100, 1000]);
  });
});

describe('README tables', () => {
  it('pivots figures into a row per label set, a column per metric, with goals checked against the median', () => {
    const goal = { op: '>=' as const, value: 150, source: 'g' };
    const table = pivot([
      figure({ query: 'q0', workers: 1 }, 'events/s', 'events/s', [200, 210, 190], { goal }),
      figure({ query: 'q0', workers: 1 }, 'cores', 'cores', [1]),
      figure({ query: 'q5', workers: 1 }, 'events/s', 'events/s', [90, 100, 110], { goal }),
      figure({ query: 'q5', workers: 1 }, 'cores', 'cores', [1]),
      missingFigure({ query: 'q9', workers: 1 }, 'events/s', 'events/s', 'job not written', { goal }),
      missingFigure({ query: 'q9', workers: 1 }, 'cores', 'cores', 'job not written'),
    ]);
    const lines = table.split('\n');
    expect(lines[0]).toBe('| query | workers | events/s | cores | goal |');
    expect(lines[2]).toContain('200 (190–210)');
    expect(lines[2]).toContain('≥ 150: met');
    expect(lines[3]).toContain('**missed by 33 %**');
    expect(lines[4]).toContain('n/a: job not written');
    expect(lines[4]).toContain('not measured');
  });

  it('puts rows with other metrics in a table of their own, and states large misses as a multiple', () => {
    const tables = pivot([
      figure({ run: 'throughput' }, 'records/s', 'records/s', [100]),
      figure({ run: 'latency' }, 'p99', 'ms', [500], { goal: { op: '<=', value: 50, source: 'g' } }),
    ]).split('\n\n');
    expect(tables).toHaveLength(2);
    expect(tables[1]).toContain('**missed, 10× the goal**');
  });

  it('renders result files of other shapes as plain tables', () => {
    expect(generic([{ codec: 'a', ops: 1000 }, { codec: 'b', extra: { x: 1 } }]).split('\n')[0]).toBe('| codec | ops | extra.x |');
    expect(generic({ total: 5, nested: { a: 1 } })).toContain('| nested.a | 1 |');
  });
});

/**
 * Every key that resolveRunOptions reads from a --config file must be one the
 * file may hold: the unknown-key check would otherwise refuse a documented key.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../../../engine/cli/options.ts';

describe('--config keys', () => {
  it('accepts every key the options read from the file', () => {
    const source = readFileSync(new URL('../../../engine/cli/options.ts', import.meta.url), 'utf8');
    const read = [...new Set([...source.matchAll(/[(\s]file\.([a-zA-Z]\w*)/g)].map((m) => m[1]))];
    expect(read.length).toBeGreaterThan(10);
    expect(read.filter((k) => !(CONFIG_KEYS as readonly string[]).includes(k))).toEqual([]);
  });
});

/**
 * Validation of recentchange events against Wikimedia's official schema
 * (1.0.1, draft-07, `$schema` with https, union types) with ajv.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { compileJsonSchema, loadJsonSchema } from '../../../engine/sources/json-schema.ts';
import { DEFAULT_SCHEMA_PATH } from '../../../jobs/wikipedia.ts';
import { invalidEvents, recordedEvents, schemaPath, variants, wikimediaDataDir } from '../../helpers/wikimedia-fixtures.ts';

const schema = loadJsonSchema(schemaPath());

describe('mediawiki/recentchange schema', () => {
  it('accepts every recorded event and the new, log (array, object and string params) and categorize variants', () => {
    const all = [...recordedEvents(), ...variants()];
    expect(all.map((e) => schema.validate(e))).toEqual(all.map(() => undefined));
    expect(new Set(all.map((e) => e.type))).toEqual(new Set(['edit', 'new', 'log', 'categorize']));
    expect(new Set(all.map((e) => e.meta.domain)).size).toBeGreaterThanOrEqual(4);
  });

  it('rejects each broken event with the error that names what is wrong', () => {
    for (const { event, breaks } of invalidEvents()) expect(schema.validate(event)).toContain(breaks);
  });

  it('accepts the https draft-07 meta-schema id and unknown keywords, and refuses a broken schema with its path', () => {
    expect(schema.id).toBe('/mediawiki/recentchange/1.0.1');
    const custom = compileJsonSchema({ $schema: 'https://json-schema.org/draft-07/schema#', type: 'object', 'x-owner': 'data-eng', properties: { a: { type: 'integer', 'x-doc': 1 } } });
    expect(custom.unknownKeywords).toEqual(['x-owner', 'x-doc']);
    expect(custom.validate({ a: 'no' })).toBe('/a must be integer');
    expect(() => compileJsonSchema({ type: 'no-such-type' }, 'bad.json')).toThrow(/bad.json: cannot compile/);
    expect(() => loadJsonSchema('/nonexistent/schema.json')).toThrow(/not readable at \/nonexistent\/schema.json/);
  });

  it('leaves the recordings as they were (byte for byte)', () => {
    const sums = Object.fromEntries(
      ['polars_book_wikimedia.ndjson', 'wiki_visualizer_example.events.sse.txt', 'schema_mediawiki_recentchange_1.0.1.json'].map((f) => [
        f,
        createHash('sha256').update(readFileSync(join(wikimediaDataDir(), f))).digest('hex').slice(0, 16),
      ]),
    );
    // Recorded once from the shared data; a change means someone edited a fixture.
    expect(sums).toMatchSnapshot();
  });

  it('ships the job with the same schema as the recordings (the job must run without them)', () => {
    expect(DEFAULT_SCHEMA_PATH.startsWith(wikimediaDataDir())).toBe(false);
    expect(readFileSync(DEFAULT_SCHEMA_PATH)).toEqual(readFileSync(schemaPath()));
  });
});

/**
 * JSON Schema validation for sources' `validate` hook, with ajv (draft-07).
 *
 * Real-world schemas (Wikimedia's event schemas, for one) are not always what
 * ajv's strict mode expects, so loading handles three things:
 *   - `$schema` spelled with https (`https://json-schema.org/draft-07/schema#`):
 *     ajv knows the draft-07 meta-schema only by its http id, so it is
 *     registered under the https id too, and the schema is still checked
 *     against it;
 *   - union types (`["integer", "null"]`) and applicators on union types
 *     (`additionalProperties` next to `type: ["array", "object", "string"]`):
 *     allowed (allowUnionTypes, strictTypes off), as the spec allows them;
 *   - keywords ajv does not know (vendor annotations): added as annotation-
 *     only keywords, reported in `unknownKeywords`, instead of failing.
 * Formats (`date-time`, `uri-reference`, ...) come from ajv-formats, except
 * `date-time`, which is strict here: an ISO 8601 instant with a real
 * calendar date and an explicit offset or Z, that Date can represent
 * (sources/iso-instant.ts). ajv-formats' own accepts a space for the `T` and
 * the leap second 23:59:60, which Date.parse turns into NaN.
 *
 * The validator returns undefined for a valid value, or every error as one
 * line ("/meta/dt must match format \"date-time\"; / must have required
 * property 'meta'"), which is what goes
 * into the dead-letter record's reason.
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import draft07 from 'ajv/dist/refs/json-schema-draft-07.json' with { type: 'json' };
import { ErrorCodes, SluiceError } from '../errors.ts';
import { isIsoInstant } from './iso-instant.ts';

// ajv-formats is CommonJS with `exports.default`; under ESM interop the callable may sit one level down.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ?? addFormatsModule) as (ajv: Ajv) => Ajv;

export interface CompiledSchema {
  /** undefined when valid, else all errors in one line. */
  validate(value: unknown): string | undefined;
  /** Keywords the schema uses that ajv does not know; accepted as annotations. */
  readonly unknownKeywords: readonly string[];
  readonly id: string | undefined;
}

const HTTPS_DRAFT07 = 'https://json-schema.org/draft-07/schema';
/** A dead letter lists at most this many schema violations, then how many more. */
const MAX_ERRORS_SHOWN = 20;

export function compileJsonSchema(schema: Record<string, unknown>, what = 'schema'): CompiledSchema {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, strictTuples: false, allowUnionTypes: true });
  addFormats(ajv);
  ajv.addFormat('date-time', { type: 'string', validate: isIsoInstant });
  ajv.addMetaSchema({ ...draft07, $id: HTTPS_DRAFT07 });
  const unknownKeywords: string[] = [];
  let fn: ValidateFunction | undefined;
  for (let attempt = 0; fn === undefined; attempt++) {
    try {
      fn = ajv.compile(schema);
    } catch (err) {
      const m = /unknown keyword: "([^"]+)"/.exec((err as Error).message);
      if (!m || attempt > 50) throw new SluiceError(ErrorCodes.CONFIG, `${what}: cannot compile: ${(err as Error).message}`, { cause: err });
      ajv.addKeyword({ keyword: m[1] });
      unknownKeywords.push(m[1]);
    }
  }
  const validate = fn;
  return {
    unknownKeywords,
    id: typeof schema.$id === 'string' ? schema.$id : undefined,
    validate(value: unknown): string | undefined {
      if (validate(value)) return undefined;
      // Bounded: a pathological record must not make a pathological dead letter.
      const errors = validate.errors ?? [];
      const shown = errors.slice(0, MAX_ERRORS_SHOWN).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
      if (errors.length > shown.length) shown.push(`and ${errors.length - shown.length} more`);
      return shown.join('; ');
    },
  };
}

/** Reads and compiles a schema file; a missing or broken file is a CONFIG error naming the path. */
export function loadJsonSchema(path: string): CompiledSchema {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SluiceError(ErrorCodes.CONFIG, `JSON schema not readable at ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  let schema: unknown;
  try {
    schema = JSON.parse(text);
  } catch (err) {
    throw new SluiceError(ErrorCodes.CONFIG, `JSON schema at ${path} is not JSON: ${(err as Error).message}`, { cause: err });
  }
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
    throw new SluiceError(ErrorCodes.CONFIG, `JSON schema at ${path} is not an object`);
  }
  return compileJsonSchema(schema as Record<string, unknown>, path);
}

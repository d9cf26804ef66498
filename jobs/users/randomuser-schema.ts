/**
 * JSON Schema (draft-07) of one result of the randomuser.me API, and its
 * validator (sluice/schema's compileJsonSchema: ajv with formats, and
 * `date-time` as a strict ISO 8601 instant; compiled once per thread).
 *
 * It requires what the pipeline reads (see user-row.ts) and checks its types;
 * anything else may be present or absent, since the API adds fields between
 * versions. It accepts what the real API sends for every nationality:
 *   - location.postcode is a number in some countries (US, BR, DE ...) and a
 *     string in others (CA "T5J 3X4", GB "N8 7XP", IE ...);
 *   - location.street is {number, name} since API 1.3 and a plain string
 *     ("1234 main st") before, which old recordings still hold;
 *   - email local parts carry non-ASCII letters for some nationalities, so
 *     the check is "something@something", not the RFC 5322 `email` format;
 *   - id.value may be null (no national id for that country): not required.
 */
import { compileJsonSchema, type CompiledSchema } from '../../api/schema.ts';

const text = { type: 'string', minLength: 1 } as const;
const dated = {
  type: 'object',
  required: ['date'],
  properties: { date: { type: 'string', format: 'date-time' }, age: { type: 'integer' } },
} as const;

export const RANDOMUSER_RESULT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://github.com/sluice/schemas/randomuser-result.json',
  title: 'randomuser.me API result (one user)',
  type: 'object',
  required: ['gender', 'name', 'location', 'email', 'login', 'dob', 'registered', 'phone', 'picture'],
  properties: {
    gender: text,
    name: {
      type: 'object',
      required: ['first', 'last'],
      properties: { title: { type: 'string' }, first: text, last: text },
    },
    location: {
      type: 'object',
      required: ['street', 'city', 'state', 'country', 'postcode'],
      properties: {
        street: {
          anyOf: [
            {
              type: 'object',
              required: ['number', 'name'],
              properties: { number: { type: 'integer' }, name: { type: 'string' } },
            },
            text,
          ],
        },
        city: { type: 'string' },
        state: { type: 'string' },
        country: { type: 'string' },
        postcode: { type: ['string', 'number'] },
      },
    },
    email: { type: 'string', pattern: '^[^@\\s]+@[^@\\s]+$' },
    login: {
      type: 'object',
      required: ['uuid', 'username'],
      properties: { uuid: { type: 'string', format: 'uuid' }, username: text },
    },
    dob: dated,
    registered: dated,
    phone: { type: 'string' },
    picture: {
      type: 'object',
      required: ['medium'],
      properties: { medium: { type: 'string', format: 'uri' } },
    },
  },
} as const;

/** The fields of a valid result that the pipeline reads. */
export interface RandomUserResult {
  gender: string;
  name: { title?: string; first: string; last: string };
  location: {
    street: { number: number; name: string } | string;
    city: string;
    state: string;
    country: string;
    postcode: string | number;
  };
  email: string;
  login: { uuid: string; username: string };
  dob: { date: string; age?: number };
  registered: { date: string; age?: number };
  phone: string;
  picture: { medium: string; large?: string; thumbnail?: string };
  [more: string]: unknown;
}

let compiled: CompiledSchema | undefined;

function validator(): CompiledSchema {
  compiled ??= compileJsonSchema(RANDOMUSER_RESULT_SCHEMA as unknown as Record<string, unknown>, 'randomuser result schema');
  return compiled;
}

/** Undefined when `v` is a valid result; otherwise every schema violation, e.g. "/login/uuid must match format \"uuid\"". */
export function validateRandomUser(v: unknown): string | undefined {
  return validator().validate(v);
}

export function isRandomUser(v: unknown): v is RandomUserResult {
  return validator().validate(v) === undefined;
}

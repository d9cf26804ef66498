/** `sluice/schema`: JSON Schema validation (draft-07, with formats). Importing it loads `ajv`. */
export { compileJsonSchema, loadJsonSchema, type CompiledSchema } from '../engine/sources/json-schema.ts';
/** Strict ISO 8601 instants (what format `date-time` accepts): ms since the epoch, or undefined. */
export { parseIsoInstant, isIsoInstant } from '../engine/sources/iso-instant.ts';

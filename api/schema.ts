/** `sluice/schema`: JSON Schema validation (draft-07, with formats). Importing it loads `ajv`. */
export { compileJsonSchema, loadJsonSchema, type CompiledSchema } from '../engine/sources/json-schema.ts';

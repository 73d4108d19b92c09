// The built-in format validators, generated at build time by scripts/build.mjs (ajv standalone
// code of schemas/*.schema.json, one export per format id); there is no source file.
import type { ValidateFunction } from 'ajv/dist/2020';
import type { FormatId } from '../model';

declare const validators: Readonly<Record<FormatId, ValidateFunction>>;
export = validators;

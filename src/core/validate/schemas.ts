import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type Ajv2020 from 'ajv/dist/2020';
import type { ErrorObject, ValidateFunction } from 'ajv/dist/2020';
import type { FormatId } from '../model';
import alpaca from '../../../schemas/alpaca.schema.json';
import llamafactoryV1Preference from '../../../schemas/llamafactory-v1-preference.schema.json';
import llamafactoryV1 from '../../../schemas/llamafactory-v1.schema.json';
import mtBench from '../../../schemas/mt-bench.schema.json';
import openaiPreference from '../../../schemas/openai-preference.schema.json';
import openai from '../../../schemas/openai.schema.json';
import sharegptPreference from '../../../schemas/sharegpt-preference.schema.json';
import sharegpt from '../../../schemas/sharegpt.schema.json';
import trlPreference from '../../../schemas/trl-preference.schema.json';
import trlKto from '../../../schemas/trl-kto.schema.json';
import llamafactoryKto from '../../../schemas/llamafactory-kto.schema.json';
import trlPromptCompletion from '../../../schemas/trl-prompt-completion.schema.json';
import trlStepwise from '../../../schemas/trl-stepwise.schema.json';

/** The built-in schemas (schemas/<format>.schema.json), bundled into every consumer. */
export const BUILTIN_SCHEMAS: Readonly<Record<FormatId, object>> = {
  sharegpt,
  openai,
  'llamafactory-v1': llamafactoryV1,
  'trl-preference': trlPreference,
  'openai-preference': openaiPreference,
  'sharegpt-preference': sharegptPreference,
  'llamafactory-v1-preference': llamafactoryV1Preference,
  alpaca,
  'mt-bench': mtBench,
  'trl-kto': trlKto,
  'llamafactory-kto': llamafactoryKto,
  'trl-prompt-completion': trlPromptCompletion,
  'trl-stepwise': trlStepwise,
};

export const FORMAT_IDS = Object.keys(BUILTIN_SCHEMAS) as FormatId[];

/**
 * The ajv instance schemas compile with. scripts/build.mjs compiles the built-in schemas at
 * build time with these same options: keep them in step.
 */
export function newAjv(): Ajv2020 {
  // require() rather than import: the schema compiler loads only when a custom schema is set.
  /* eslint-disable @typescript-eslint/no-require-imports */
  const Ajv = (require('ajv/dist/2020') as typeof import('ajv/dist/2020')).default;
  const addFormats = (require('ajv-formats') as typeof import('ajv-formats')).default;
  /* eslint-enable @typescript-eslint/no-require-imports */
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

type Standalone = Readonly<Record<FormatId, ValidateFunction>>;
let standalone: Standalone | undefined;
const custom = new Map<string, ValidateFunction>();

/**
 * The validator of a built-in format: compiled at build time (ajv standalone code, bundled as
 * ./builtinValidators), loaded on first use; no schema is compiled at run time.
 */
export function builtinValidator(format: FormatId): ValidateFunction {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  standalone ??= require('./builtinValidators') as Standalone;
  return standalone[format];
}

/** The compiled validator of a schema file (compiled once per process and path). Throws a readable Error. */
export function customValidator(schemaPath: string): ValidateFunction {
  const abs = resolve(schemaPath);
  let v = custom.get(abs);
  if (!v) {
    let schema: unknown;
    try {
      schema = JSON.parse(readFileSync(abs, 'utf8'));
    } catch (e) {
      throw new Error(`cannot read schema ${schemaPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (typeof schema !== 'object' || schema === null)
      throw new Error(`schema ${schemaPath} is not a JSON object`);
    try {
      v = newAjv().compile(schema);
    } catch (e) {
      throw new Error(`invalid schema ${schemaPath}: ${e instanceof Error ? e.message : String(e)}`);
    }
    custom.set(abs, v);
  }
  return v;
}

/** A schema error reduced to what a person needs: where, what, and which span to mark. */
export interface SchemaProblem {
  keyword: string;
  /** JSON pointer of the value to mark. */
  pointer: string;
  /** Mark the property name instead of the value. */
  target: 'value' | 'key';
  message: string;
}

const LIST_LABEL: Record<string, string> = {
  conversations: 'turn',
  messages: 'turn',
  turns: 'turn',
  chosen_messages: 'chosen turn',
  rejected_messages: 'rejected turn',
  preferred_output: 'preferred output message',
  non_preferred_output: 'non-preferred output message',
  prompt: 'prompt message',
  chosen: 'chosen message',
  rejected: 'rejected message',
  history: 'history pair',
  content: 'part',
  tool_calls: 'tool call',
  reference: 'reference',
  tools: 'tool',
};

/** 'turn 3: "content"' style description of a pointer: [where, subject]. */
export function describePointer(segs: readonly string[]): { where: string; subject: string | undefined } {
  const where: string[] = [];
  let subject: string | undefined;
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    const next = segs[i + 1];
    const isLast = i === segs.length - 1;
    if (next !== undefined && /^\d+$/.test(next)) {
      const label = LIST_LABEL[seg] ?? `"${seg}" item`;
      const phrase = `${label} ${Number(next) + 1}`;
      if (i + 1 === segs.length - 1) subject = phrase;
      else where.push(phrase);
      i++;
      continue;
    }
    if (isLast) subject = /^\d+$/.test(seg) ? `item ${Number(seg) + 1}` : `"${seg}"`;
    else where.push(/^\d+$/.test(seg) ? `item ${Number(seg) + 1}` : `"${seg}"`);
  }
  return { where: where.join(', '), subject };
}

function typeWord(t: unknown): string {
  switch (t) {
    case 'string':
      return 'a string';
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'boolean':
      return 'true or false';
    case 'null':
      return 'null';
    default:
      return String(t);
  }
}

function typesWords(t: unknown): string {
  const list = Array.isArray(t) ? (t as unknown[]) : typeof t === 'string' ? t.split(',') : [t];
  return list.map(typeWord).join(' or ');
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function typeMatches(schemaType: unknown, v: unknown): boolean {
  const t = jsonType(v);
  const list = Array.isArray(schemaType) ? (schemaType as unknown[]) : [schemaType];
  return list.some((s) => s === t || (s === 'number' && t === 'integer'));
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function branchLabel(branch: unknown): string {
  if (!isObj(branch)) return 'a valid value';
  if (typeof branch.title === 'string') return branch.title;
  if (branch.type !== undefined) return typesWords(branch.type);
  if ('const' in branch) return JSON.stringify(branch.const);
  return 'a valid value';
}

function plural(n: unknown, word: string): string {
  return `${String(n)} ${word}${n === 1 ? '' : 's'}`;
}

function text(e: ErrorObject, subject: string | undefined): string {
  const s = subject ?? 'the record';
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required':
      return `missing required property "${String(p.missingProperty)}"`;
    case 'additionalProperties':
      return `unknown property "${String(p.additionalProperty)}"`;
    case 'unevaluatedProperties':
      return `unknown property "${String(p.unevaluatedProperty)}"`;
    case 'type':
      return `${s} must be ${typesWords(p.type)}`;
    case 'enum':
      return `${s} must be one of ${(p.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return `${s} must be ${JSON.stringify(p.allowedValue)}`;
    case 'minItems':
      return `${s} must have at least ${plural(p.limit, 'item')}`;
    case 'maxItems':
      return `${s} must have at most ${plural(p.limit, 'item')}`;
    case 'minLength':
      return p.limit === 1
        ? `${s} must not be empty`
        : `${s} must have at least ${plural(p.limit, 'character')}`;
    case 'maxLength':
      return `${s} must have at most ${plural(p.limit, 'character')}`;
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `${s} must be ${String(p.comparison)} ${String(p.limit)}`;
    default:
      return `${s} ${e.message ?? `fails "${e.keyword}"`}`;
  }
}

function valueAt(data: unknown, segs: readonly string[]): unknown {
  let v = data;
  for (const s of segs) {
    if (Array.isArray(v)) v = v[Number(s)];
    else if (isObj(v)) v = v[s];
    else return undefined;
  }
  return v;
}

/**
 * Turns ajv's raw error list (allErrors) into the problems worth showing: for an anyOf/oneOf
 * whose value has the type of exactly one branch, that branch's errors; otherwise one message
 * listing what the value may be. `if` wrappers and duplicates are dropped.
 */
export function schemaProblems(
  errors: readonly ErrorObject[],
  data: unknown,
  parse: (p: string) => string[],
): SchemaProblem[] {
  const dropped = new Set<ErrorObject>();
  const alts = errors
    .filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf')
    .sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const alt of alts) {
    if (dropped.has(alt)) continue;
    const prefix = alt.schemaPath + '/';
    const branches = Array.isArray(alt.schema) ? (alt.schema as unknown[]) : [];
    const value = valueAt(data, parse(alt.instancePath));
    const matching = branches.flatMap((b, i) =>
      isObj(b) && b.type !== undefined && typeMatches(b.type, value) ? [i] : [],
    );
    const keep = matching.length === 1 ? `${prefix}${matching[0]}/` : undefined;
    let kept = 0;
    const deeper = alt.instancePath + '/';
    for (const e of errors) {
      if (e === alt) continue;
      // Errors inside a $ref'd schema carry the ref's schemaPath: attribute them by instance path.
      const inside =
        e.schemaPath.startsWith(prefix) || (e.instancePath.startsWith(deeper) && !dropped.has(e));
      if (!inside) continue;
      if (keep !== undefined && (e.schemaPath.startsWith(keep) || e.instancePath.startsWith(deeper))) kept++;
      else dropped.add(e);
    }
    if (keep !== undefined && kept > 0) dropped.add(alt);
    else (alt as ErrorObject & { _label?: string })._label = branches.map(branchLabel).join(' or ');
  }
  const out: SchemaProblem[] = [];
  const seen = new Set<string>();
  for (const e of errors) {
    if (dropped.has(e) || e.keyword === 'if') continue;
    const segs = parse(e.instancePath);
    const p = e.params as Record<string, unknown>;
    let pointer = e.instancePath;
    let target: 'value' | 'key' = 'value';
    let whereSegs = segs;
    if (e.keyword === 'additionalProperties' || e.keyword === 'unevaluatedProperties') {
      const key = String(p.additionalProperty ?? p.unevaluatedProperty);
      pointer = `${e.instancePath}/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
      target = 'key';
    }
    const { where, subject } = describePointer(whereSegs);
    let msg: string;
    const label = (e as ErrorObject & { _label?: string })._label;
    if (label !== undefined) msg = `${subject ?? 'the record'} must be ${label}`;
    else if (e.keyword === 'required' || target === 'key') {
      whereSegs = segs;
      const whereAll = [where, subject].filter((x) => x).join(', ');
      msg = (whereAll ? `${whereAll}: ` : '') + text(e, subject);
      const key = `${pointer}|${msg}`;
      if (!seen.has(key)) {
        seen.add(key);
        out.push({ keyword: e.keyword, pointer, target, message: msg });
      }
      continue;
    } else msg = text(e, subject);
    const full = (where ? `${where}: ` : '') + msg;
    const key = `${pointer}|${full}`;
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ keyword: e.keyword, pointer, target, message: full });
  }
  return out;
}

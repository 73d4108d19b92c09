import type { FormatId } from '../model';
import type { RecordMapping } from '../formats/recordMapping';

export type Severity = 'error' | 'warning' | 'info';
export type RuleSetting = 'off' | Severity;

/**
 * One problem in a file. Lines and columns are 0-based; columns count UTF-16 code units (as
 * editors do) in the line without its line ending and, on line 0, without a UTF-8 BOM.
 */
export interface Diagnostic {
  line: number;
  startCol: number;
  /** Set only when the range ends on another line. */
  endLine?: number;
  endCol: number;
  severity: Severity;
  /** Stable code: a rule code (see RULES) or `schema/<keyword>` for schema errors. */
  code: string;
  message: string;
}

/** The rule codes, with their default severity and a one-line description. */
export const RULES = {
  'json/syntax': { severity: 'error', description: 'The line is not valid JSON.' },
  'json/encoding': {
    severity: 'error',
    description: 'Invalid UTF-8, a UTF-16/32 file, or a byte order mark in the middle of the file.',
  },
  'json/blank-line': {
    severity: 'warning',
    description: 'Empty line, or one of spaces and tabs only (most loaders fail on it).',
  },
  'json/not-object': { severity: 'error', description: 'The line is valid JSON but not an object.' },
  'json/too-deep': {
    severity: 'error',
    description:
      'Valid JSON nested deeper than 900 levels: Python json and Hugging Face datasets fail on it (recursion limit).',
  },
  'json/duplicate-key': {
    severity: 'warning',
    description:
      'A key occurs twice in one object: JSON loaders keep the last value and drop the other without a word.',
  },
  schema: {
    severity: 'error',
    description: 'The record does not match the JSON Schema of its format (codes schema/<keyword>).',
  },
  'format/unknown': { severity: 'error', description: 'The record matches no known dataset format.' },
  'format/mixed': {
    severity: 'warning',
    description: 'The file mixes formats; reported on the records of the minority formats.',
  },
  'role/unknown': { severity: 'warning', description: 'A role / speaker name the format does not define.' },
  'role/invalid': {
    severity: 'error',
    description: 'A role the OpenAI API rejects, in the OpenAI chat or preference format.',
  },
  'role/system-not-first': { severity: 'warning', description: 'A system turn that is not the first turn.' },
  'role/alternation': {
    severity: 'warning',
    description: 'User and assistant turns do not alternate (tool call/result sequences allowed).',
  },
  'content/empty': { severity: 'warning', description: 'Empty or whitespace-only content.' },
  'content/type-drift': {
    severity: 'warning',
    description:
      '"content" is a string in some records and a list in others (breaks Hugging Face datasets loading).',
  },
  'dialogue/last-not-assistant': {
    severity: 'warning',
    description: 'A fine-tuning dialogue that does not end with an assistant turn.',
  },
  'preference/identical': {
    severity: 'warning',
    description: 'A preference pair whose chosen and rejected answers are the same.',
  },
  'preference/not-assistant': {
    severity: 'error',
    description: 'A chosen or rejected answer that is not an assistant turn.',
  },
  'media/missing-file': {
    severity: 'error',
    description:
      'A local image, video or audio file the record names (LLaMA-Factory media columns, image_url parts) does not exist.',
  },
  'media/count': {
    severity: 'error',
    description:
      'The number of <image> / <video> / <audio> placeholders differs from the number of entries in the media column.',
  },
  'tokens/cutoff': {
    severity: 'warning',
    description:
      'With a cutoff set: the last assistant turn is cut by truncation, the prompt alone passes the cutoff, or a preference pair becomes identical or empty.',
  },
  'duplicate/id': { severity: 'warning', description: 'An id already used by an earlier record.' },
  'duplicate/dialogue': {
    severity: 'warning',
    description: 'A dialogue identical (after whitespace normalisation) to an earlier record.',
  },
} as const satisfies Record<string, { severity: Severity; description: string }>;

export type RuleCode = keyof typeof RULES;

export function isRuleCode(code: string): code is RuleCode {
  return Object.prototype.hasOwnProperty.call(RULES, code);
}

export interface ValidateOptions {
  /** Validate every record as this format; when absent, each record's format is detected. */
  format?: FormatId;
  /** A JSON Schema file used instead of the built-in schema of the format. */
  schemaPath?: string;
  /** Per-rule severity overrides; `schema` covers every `schema/<keyword>` code. */
  rules?: Partial<Record<RuleCode, RuleSetting>>;
  /** Folder that relative media paths are resolved against (the dataset's); no file checks without it. */
  mediaRoot?: string;
  /** Keep at most this many diagnostics (counting goes on). Default: unlimited. */
  maxDiagnostics?: number;
  /** What messages call a record's position: `line` (JSONL, the default) or `row` (Parquet). */
  positionUnit?: 'line' | 'row';
  /** Read every record through these dataset_info.json renames (see formats/entryMapping). */
  mapping?: RecordMapping;
  /** The tokenizer and training length for `tokens/cutoff`; the rule runs only when this is set. */
  tokens?: { tokenizer: string; cutoff: number };
}

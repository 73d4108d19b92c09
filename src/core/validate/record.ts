/**
 * Per-record validation: JSON syntax, schema, and the lint rules that need only one record.
 * Also computes the compact facts that the cross-record rules need (hashes as numbers).
 */
import { isAscii } from 'node:buffer';
import type { ValidateFunction } from 'ajv/dist/2020';
import { detectRecordFormat } from '../formats/detect';
import { detectStyle, JsonTooDeepError, mayBeTooDeep, readRecord } from '../formats';
import { duplicateKeys } from '../formats/jsonKeep';
import { TokenRule } from './tokens';
import { encodingProblem, MISPLACED_BOM } from '../encoding';
import { isBlankLine } from '../stats/lines';
import type { FormatId } from '../model';
import { NO_KERNEL, type RawLine } from './lines';
import { NumberMap } from './column';
import { findSyntaxError, locate, parsePointer, type Span } from './locate';
import { mapRecord, unmapPointer, type RecordMapping } from '../formats/recordMapping';
import { builtinValidator, customValidator, FORMAT_IDS, schemaProblems } from './schemas';
import {
  RULES,
  type Diagnostic,
  type RuleCode,
  type RuleSetting,
  type Severity,
  type ValidateOptions,
} from './types';
import { mediaProblems } from './media';
import { recordView, roleClass, type RecordView, type RoleClass, type TurnView } from './view';
import { fastLine, type FastFacts } from './fast';
import {
  BYTES,
  hashCode,
  hashNorm,
  hashNormExact,
  hashStart,
  hashString,
  hashValue,
  LEADS,
  SIG_CHARS,
} from './hash';

/** Facts about one record for the cross-record rules. NaN = absent. */
export interface RecordFacts {
  /** Index in FORMAT_IDS of the record's (detected) format, -1 when unknown. */
  format: number;
  idHash: number;
  /**
   * The dialogue's key for duplicate/dialogue: its full hash, or (for a checker made with
   * `dialogueKey: 'signature'`) a cheap signature that must be confirmed (see rereadDialogueHash).
   */
  dialogueKey: number;
  /**
   * With signatures: the full hash too, when the signature was already seen since the last
   * `resetSignatures` (likely a duplicate, so worth hashing while the record is at hand); else NaN.
   */
  dialogueFull: number;
  /** Bit 1: some content is a string; bit 2: some content is a list. */
  kinds: number;
  /** Span of the record's JSON value in the line. */
  recStart: number;
  recEnd: number;
}

export const KIND_STRING = 1;
export const KIND_LIST = 2;

export class Severities {
  private readonly map = new Map<string, RuleSetting>();

  constructor(rules: ValidateOptions['rules']) {
    for (const [code, def] of Object.entries(RULES)) this.map.set(code, def.severity);
    if (rules) for (const [code, s] of Object.entries(rules)) if (s !== undefined) this.map.set(code, s);
  }

  get(code: RuleCode): RuleSetting {
    return this.map.get(code) ?? 'error';
  }

  on(code: RuleCode): boolean {
    return this.get(code) !== 'off';
  }
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** How a dialogue's strings are hashed: whole texts, or texts by their ends for a signature. */
interface Hasher {
  text(s: string): void;
  name(s: string): void;
}

const FULL: Hasher = { text: hashNormExact, name: hashNormExact };

function signatureHasher(how: typeof LEADS | typeof BYTES): Hasher {
  return {
    // A text of whitespace only adds nothing, as in the full hash (where it is the same as no text).
    text: (s) => {
      if (hashNorm(s, how, 0, 1, SIG_CHARS) === 0) return;
      hashCode(0x19);
      hashNorm(s, how, s.length - 1, -1, SIG_CHARS);
    },
    name: (s) => hashNorm(s, how, 0, 1, Infinity),
  };
}

const SIG_UTF16 = signatureHasher(LEADS);
const SIG_BYTES = signatureHasher(BYTES);

function hashContent(content: unknown, h: Hasher): void {
  if (typeof content === 'string') h.text(content);
  else if (Array.isArray(content)) {
    for (const p of content) {
      if (!isObj(p)) continue;
      const t = typeof p.text === 'string' ? p.text : typeof p.value === 'string' ? p.value : undefined;
      if (typeof p.type === 'string' && p.type !== 'text') h.name(p.type);
      if (t !== undefined) h.text(t);
      hashCode(0x1f);
    }
  }
}

function hashTurns(turns: readonly TurnView[], h: Hasher): void {
  for (const t of turns) {
    const cls = roleClass(t);
    if (cls !== undefined) hashCode(cls.charCodeAt(0));
    else if (typeof t.role === 'string') h.name(t.role);
    hashCode(0x1e);
    hashContent(t.content, h);
    if (t.toolCalls) hashCode(0x1c);
    hashCode(0x1d);
  }
}

/**
 * The hash of what duplicate/dialogue compares: roles and texts after trimming and collapsing
 * whitespace. With a signature hasher, only the first and last characters of each text are read:
 * a signature that equal dialogues share, cheap enough for every record, whose matches are then
 * confirmed with the full hash.
 */
function dialogueHash(view: RecordView, h: Hasher = FULL): number {
  hashStart();
  if (typeof view.system === 'string') h.text(view.system);
  hashCode(0x1a);
  hashTurns(view.turns, h);
  if (view.chosen) {
    hashCode(0x1b);
    hashTurns(view.chosen, h);
  }
  if (view.rejected) {
    hashCode(0x1b);
    hashTurns(view.rejected, h);
  }
  return hashValue();
}

function answerHash(turns: readonly TurnView[]): number {
  hashStart();
  hashTurns(turns, FULL);
  return hashValue();
}

// --- content helpers ----------------------------------------------------------------------------

function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!(c <= 32 || c === 0xa0 || c === 0x3000 || (c >= 0x2000 && c <= 0x200b))) return false;
  }
  return true;
}

/** isBlank for raw UTF-8 read as Latin-1 (see RawLine): the same spaces by their UTF-8 bytes. */
function isBlankBytes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32) continue;
    const d = s.charCodeAt(i + 1);
    if (c === 0xc2 && d === 0xa0)
      i += 1; // U+00A0
    else if (c === 0xe2 && d === 0x80 && s.charCodeAt(i + 2) >= 0x80 && s.charCodeAt(i + 2) <= 0x8b)
      i += 2; // U+2000..U+200B
    else if (c === 0xe3 && d === 0x80 && s.charCodeAt(i + 2) === 0x80)
      i += 2; // U+3000
    else return false;
  }
  return true;
}

function contentEmpty(t: TurnView, isBlank: (s: string) => boolean): boolean {
  const c = t.content;
  if (typeof c === 'string') return isBlank(c);
  if (c === null || c === undefined) return !t.toolCalls && t.content === null;
  if (Array.isArray(c)) {
    for (const p of c) {
      if (!isObj(p)) return false;
      const text = typeof p.text === 'string' ? p.text : typeof p.value === 'string' ? p.value : undefined;
      if (p.type !== 'text' && p.type !== undefined) return false;
      if (text === undefined || !isBlank(text)) return false;
    }
    return true;
  }
  return false;
}

function kindsOf(turns: readonly TurnView[]): number {
  let k = 0;
  for (const t of turns) {
    if (typeof t.content === 'string') k |= KIND_STRING;
    else if (Array.isArray(t.content)) k |= KIND_LIST;
  }
  return k;
}

export function contentKinds(view: RecordView): number {
  if (!view.contentKinds) return 0;
  return kindsOf(view.sequence.length ? view.sequence : view.turns) | kindsOf(view.rejected ?? []);
}

/** The pointer of the first content of the given kind in the record (for type-drift diagnostics). */
export function firstContentOfKind(view: RecordView, kind: number): string | undefined {
  for (const t of [...view.sequence, ...view.turns, ...(view.chosen ?? []), ...(view.rejected ?? [])]) {
    if (kind === KIND_STRING && typeof t.content === 'string') return t.contentPtr;
    if (kind === KIND_LIST && Array.isArray(t.content)) return t.contentPtr;
  }
  return undefined;
}

// --- lint rules on one record ------------------------------------------------------------------

interface Problem {
  code: RuleCode;
  pointer: string;
  target: 'value' | 'key';
  message: string;
  keyword?: string;
}

function turnLabel(t: TurnView): string {
  const segs = parsePointer(t.rolePtr);
  // /conversations/2/from -> turn 3; /chosen/from -> chosen; /input/messages/1/role -> prompt turn 2
  const idx = segs.findIndex((s) => /^\d+$/.test(s));
  if (idx < 0) return `"${segs[0]}"`;
  const list = segs[idx - 1];
  const n = Number(segs[idx]) + 1;
  switch (list) {
    case 'conversations':
    case 'messages':
      return segs[0] === 'input' ? `prompt turn ${n}` : `turn ${n}`;
    case 'turns':
      return `turn ${n}`;
    case 'history':
      return `history pair ${n}`;
    default:
      return `${list.replace(/_/g, ' ')} ${n}`;
  }
}

function roleName(t: TurnView): string {
  return typeof t.role === 'string' ? `"${t.role}"` : 'a turn without a role';
}

const EXPECT: Record<RoleClass | 'start', string> = {
  start: 'a user turn',
  U: 'an assistant turn (or a tool call)',
  A: 'a user turn',
  C: 'a tool result (observation)',
  O: 'an assistant turn or another tool call',
  S: 'a user turn',
};

function alternationProblem(seq: readonly TurnView[]): Problem | undefined {
  let prev: RoleClass | 'start' = 'start';
  for (const t of seq) {
    const c = roleClass(t);
    if (c === undefined || c === 'S') continue;
    let ok: boolean;
    switch (prev) {
      case 'start':
        ok = c === 'U';
        break;
      case 'U':
        ok = c === 'A' || c === 'C';
        break;
      case 'A':
        ok = c === 'U';
        break;
      case 'C':
        ok = c === 'O';
        break;
      default:
        ok = c === 'A' || c === 'C' || c === 'O';
    }
    if (!ok) {
      const msg =
        prev === 'start'
          ? `${turnLabel(t)}: the dialogue starts with ${roleName(t)}; expected ${EXPECT.start}`
          : `${turnLabel(t)}: ${roleName(t)} where ${EXPECT[prev]} was expected; user and assistant turns should alternate`;
      return { code: 'role/alternation', pointer: t.rolePtr, target: 'value', message: msg };
    }
    prev = c;
  }
  return undefined;
}

/** Formats read by the OpenAI fine-tuning API, which rejects a file with any other role. */
const API_ROLE_FORMATS: ReadonlySet<FormatId> = new Set<FormatId>(['openai', 'openai-preference']);

function lint(view: RecordView, sev: Severities, out: Problem[], bytes: boolean, format: FormatId): void {
  const blank = bytes ? isBlankBytes : isBlank;
  const roleCode: RuleCode = API_ROLE_FORMATS.has(format) ? 'role/invalid' : 'role/unknown';
  const roleTurns = view.sequence.length ? view.sequence : view.turns;
  // Every turn once: the sequence (dialogue, or prompt + chosen) and the rejected answer.
  const all = view.rejected ? roleTurns.concat(view.rejected) : roleTurns;
  if (sev.on(roleCode)) {
    for (const t of all) {
      if (t.implied) continue;
      if (typeof t.role === 'string' && !view.roles.has(t.role)) {
        const expected = [...view.roles].map((r) => `"${r}"`).join(', ');
        out.push({
          code: roleCode,
          pointer: t.rolePtr,
          target: 'value',
          message:
            roleCode === 'role/invalid'
              ? `${turnLabel(t)}: role "${t.role}" is rejected by the OpenAI API (allowed: ${expected})`
              : `${turnLabel(t)}: unknown role "${t.role}" (expected ${expected})`,
        });
      }
    }
  }
  if (sev.on('role/system-not-first')) {
    roleTurns.forEach((t, i) => {
      if (i > 0 && !t.implied && roleClass(t) === 'S') {
        out.push({
          code: 'role/system-not-first',
          pointer: t.rolePtr,
          target: 'value',
          message: `${turnLabel(t)}: a system turn must be the first turn`,
        });
      }
    });
  }
  if (sev.on('role/alternation') && roleTurns.length && !roleTurns[0].implied) {
    const p = alternationProblem(roleTurns);
    if (p) out.push(p);
  }
  if (sev.on('content/empty')) {
    for (const t of all) {
      if (contentEmpty(t, blank)) {
        out.push({
          code: 'content/empty',
          pointer: t.contentPtr,
          target: 'value',
          message: `${turnLabel(t)}: content is empty`,
        });
      }
    }
    if (typeof view.system === 'string' && blank(view.system)) {
      out.push({ code: 'content/empty', pointer: '/system', target: 'value', message: '"system" is empty' });
    }
  }
  if (view.sft && sev.on('dialogue/last-not-assistant') && view.turns.length) {
    const last = view.turns[view.turns.length - 1];
    if (roleClass(last) !== 'A') {
      out.push({
        code: 'dialogue/last-not-assistant',
        pointer: last.rolePtr,
        target: 'value',
        message: `${turnLabel(last)}: the dialogue ends with ${roleName(last)}; a fine-tuning dialogue should end with an assistant turn`,
      });
    }
  }
  if (view.chosen && view.rejected) {
    if (sev.on('preference/not-assistant')) {
      for (const [side, turns] of [
        ['chosen', view.chosen],
        ['rejected', view.rejected],
      ] as const) {
        for (const t of turns) {
          if (t.implied) continue;
          const c = roleClass(t);
          if (c !== 'A' && c !== 'C') {
            out.push({
              code: 'preference/not-assistant',
              pointer: t.rolePtr,
              target: 'value',
              message: `the ${side} answer has role ${roleName(t)}; it must be an assistant turn`,
            });
          }
        }
      }
    }
    if (
      sev.on('preference/identical') &&
      view.chosen.length &&
      answerHash(view.chosen) === answerHash(view.rejected)
    ) {
      out.push({
        code: 'preference/identical',
        pointer: view.rejectedPtr ?? '',
        target: 'value',
        message: 'the rejected answer is the same as the chosen answer (the pair teaches nothing)',
      });
    }
  }
}

// --- the per-record check ----------------------------------------------------------------------

export interface LineResult {
  diagnostics: Diagnostic[];
  facts?: RecordFacts;
}

export const BOM = '\uFEFF';

/** The diagnostics of a record with nothing to report (shared, never written to). */
const NONE: Diagnostic[] = Object.freeze([]) as unknown as Diagnostic[];
const SHAREGPT = FORMAT_IDS.indexOf('sharegpt');

/** The line as columns count it: no BOM on line 0, no trailing CR. */
export function normaliseLine(text: string, line: number): string {
  let t = text;
  if (line === 0 && t.charCodeAt(0) === 0xfeff) t = t.slice(1);
  if (t.charCodeAt(t.length - 1) === 13) t = t.slice(0, -1);
  return t;
}

function firstNonWs(t: string): number {
  let i = 0;
  while (i < t.length && (t.charCodeAt(i) === 32 || t.charCodeAt(i) === 9)) i++;
  return i;
}

function lastNonWs(t: string): number {
  let i = t.length;
  while (i > 0 && (t.charCodeAt(i - 1) === 32 || t.charCodeAt(i - 1) === 9)) i--;
  return i;
}

/**
 * Whether a parsed JSON text may repeat a key in some object: every member of an object is written
 * with its own ':', so when the text has no more colons than the parsed value has keys, no key was
 * repeated (colons inside strings only make this answer "maybe"). Saves the key scan of
 * duplicateKeys on almost every record.
 */
export function mayRepeatKeys(text: string, value: unknown): boolean {
  let colons = 0;
  for (let i = text.indexOf(':'); i >= 0; i = text.indexOf(':', i + 1)) colons++;
  if (colons === 0) return false;
  let keys = 0;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null) continue;
    if (Array.isArray(v)) {
      for (const x of v) if (typeof x === 'object' && x !== null) stack.push(x);
    } else {
      for (const k in v) {
        keys++;
        const x = (v as Record<string, unknown>)[k];
        if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
  }
  return keys < colons;
}

/** The exact text of a line read as bytes. */
function decode(l: RawLine): string {
  return l.buf.toString('utf8', l.start, l.end);
}

export class RecordChecker {
  readonly sev: Severities;
  private readonly forced?: FormatId;
  private readonly customSchema?: ValidateFunction;
  /** The dataset_info.json entry's renames: records are checked as mapped, positions unmapped. */
  private readonly mapping?: RecordMapping;
  /** Signatures seen since the last resetSignatures. */
  private readonly signatures = new NumberMap();
  /** tokens/cutoff, when a cutoff is set. */
  readonly tokenRule?: TokenRule;
  /** Whether lines read as bytes go through the fast path first (built-in schemas, ShareGPT possible). */
  private readonly fast: boolean;
  private readonly fastFacts: FastFacts = { idHash: NaN, signature: NaN, recStart: 0, recEnd: 0 };
  /**
   * The result of every record the fast path accepts: one object, rewritten for each (callers
   * read a result before they check the next line).
   */
  private readonly fastResult: LineResult = {
    diagnostics: NONE,
    facts: {
      format: SHAREGPT,
      idHash: NaN,
      dialogueKey: NaN,
      dialogueFull: NaN,
      kinds: 0,
      recStart: 0,
      recEnd: 0,
    },
  };

  /**
   * `dialogueKey` says what RecordFacts.dialogueKey holds: the full hash of the dialogue, or a
   * signature that reads only the ends of each text (for callers that can re-read records to
   * confirm matching signatures: validateFile).
   */
  constructor(
    readonly opts: ValidateOptions,
    private readonly dialogueKey: 'full' | 'signature' = 'full',
  ) {
    this.sev = new Severities(opts.rules);
    this.forced = opts.format;
    if (opts.schemaPath !== undefined) this.customSchema = customValidator(opts.schemaPath);
    if (opts.tokens && this.sev.on('tokens/cutoff')) this.tokenRule = new TokenRule(opts.tokens);
    this.mapping = opts.mapping;
    this.fast =
      !this.customSchema &&
      !this.tokenRule &&
      !this.mapping &&
      (this.forced === undefined || this.forced === 'sharegpt');
  }

  private diag(
    line: number,
    span: Span,
    code: RuleCode,
    message: string,
    severity: Severity,
    detail?: string,
  ): Diagnostic {
    return { line, startCol: span.start, endCol: span.end, severity, code: detail ?? code, message };
  }

  /**
   * After `check`: the record's JSON value as JSON.parse gave it, when it parsed, is not nested
   * too deep and the checker renames nothing; else undefined. A caller that reads the record too
   * (the overview) parses it once.
   */
  parsed: unknown = undefined;

  /** Whether lines read as bytes go through the fast path first (see `fast`). */
  get usesFastPath(): boolean {
    return this.fast;
  }

  /** Forgets the signatures seen so far (at the start of each part of a file). */
  resetSignatures(): void {
    this.signatures.clear();
  }

  /**
   * The dialogue key and full hash of a record's facts; undefined when, for a record read as bytes,
   * the full hash is wanted (it is computed from UTF-16 text only).
   */
  private dialogueFacts(
    view: RecordView | undefined,
    bytes: boolean,
  ): Pick<RecordFacts, 'dialogueKey' | 'dialogueFull'> | undefined {
    if (!view || !this.sev.on('duplicate/dialogue')) return { dialogueKey: NaN, dialogueFull: NaN };
    if (this.dialogueKey === 'full') {
      const h = dialogueHash(view);
      return { dialogueKey: h, dialogueFull: h };
    }
    const sig = dialogueHash(view, bytes ? SIG_BYTES : SIG_UTF16);
    if (!this.signatures.has(sig)) {
      this.signatures.set(sig, 1);
      return { dialogueKey: sig, dialogueFull: NaN };
    }
    return bytes ? undefined : { dialogueKey: sig, dialogueFull: dialogueHash(view) };
  }

  /**
   * Checks one line as forEachLine hands it over. A line of raw UTF-8 without \\u escapes is
   * checked as its bytes (see RawLine), which gives the same verdicts as its text for the built-in
   * schemas and every rule (isBlankBytes, signatures); when that finds a problem, or a check needs
   * the exact text, the line is decoded and checked again, so that messages and columns are exact.
   */
  checkRaw(l: RawLine, line: number): LineResult {
    // The result is valid until the next call (the fast path reuses one object).
    // A block with ill-formed UTF-8 somewhere, or a line that starts like a BOM: exact checks.
    const bomLike = l.end > l.start && l.buf[l.start] === 0xef;
    if (!l.validUtf8 || bomLike) {
      const p = encodingProblem(l.buf, l.start, l.end, line === 0);
      if (p) return this.withEncodingProblem(decode(l), line, p.column, p.message);
    }
    if (this.customSchema || this.mapping || !l.validUtf8 || (line === 0 && bomLike)) {
      return this.check(decode(l), line);
    }
    if (this.fast) {
      // The block kernel has read the line already when its slot says so (see RawLine.slot).
      let accepted = false;
      if (l.slot === NO_KERNEL) accepted = fastLine(l, this.fastFacts);
      else if (l.slot >= 0 && l.kernel) {
        l.kernel.facts(l.slot, this.fastFacts);
        accepted = true;
      }
      if (accepted && this.acceptFast()) return this.fastResult;
    }
    if (l.latin.indexOf('\\u') >= 0) {
      // Escapes make characters beyond a byte: only an all-ASCII line reads the same both ways.
      return this.check(isAscii(l.buf.subarray(l.start, l.end)) ? l.latin : decode(l), line);
    }
    const r = this.run(l.latin, line, true);
    return r && r.diagnostics.length === 0 ? r : this.check(decode(l), line);
  }

  /**
   * Writes the facts of a record the fast path accepted into fastResult, as the full check would
   * give them; false when its signature was seen before (the full check then computes its full
   * hash from the text).
   */
  private acceptFast(): boolean {
    const f = this.fastFacts;
    let dialogueKey = NaN;
    if (this.sev.on('duplicate/dialogue')) {
      if (this.dialogueKey === 'full' || this.signatures.addIfAbsent(f.signature, 1) >= 0) return false;
      dialogueKey = f.signature;
    }
    const facts = this.fastResult.facts as RecordFacts;
    facts.idHash = f.idHash;
    facts.dialogueKey = dialogueKey;
    facts.recStart = f.recStart;
    facts.recEnd = f.recEnd;
    return true;
  }

  /**
   * An encoding error at `column`, then the line's own check: of its text as decoded (each bad
   * byte read as U+FFFD), with a misplaced BOM read as a space so that the record after it is
   * still checked and columns stay exact.
   */
  private withEncodingProblem(text: string, line: number, column: number, message: string): LineResult {
    const s = this.sev.get('json/encoding');
    const misplacedBom = line > 0 && text.charCodeAt(0) === 0xfeff;
    const r = this.check(misplacedBom ? ' ' + text.slice(1) : text, line);
    if (s === 'off') return r;
    const t = normaliseLine(text, line);
    const end = Math.min(
      t.length,
      column + (t.charCodeAt(column) >= 0xd800 && t.charCodeAt(column) < 0xdc00 ? 2 : 1),
    );
    const d = this.diag(line, { start: column, end: Math.max(end, column) }, 'json/encoding', message, s);
    return { diagnostics: [d, ...r.diagnostics], facts: r.facts };
  }

  /** Checks one line (0-based number, text without its line ending). */
  check(raw: string, line: number): LineResult {
    this.parsed = undefined;
    if (line > 0 && raw.charCodeAt(0) === 0xfeff)
      return this.withEncodingProblem(raw, line, 0, MISPLACED_BOM);
    return this.run(raw, line, false) as LineResult;
  }

  /**
   * The check; with `bytes`, `raw` is raw UTF-8 read as Latin-1 without \\u escapes, and the
   * result is undefined when a check needs the exact text.
   */
  private run(raw: string, line: number, bytes: boolean): LineResult | undefined {
    const text = normaliseLine(raw, line);
    const diagnostics: Diagnostic[] = [];
    const sev = this.sev;
    if (isBlankLine(text)) {
      const s = sev.get('json/blank-line');
      if (s !== 'off') {
        diagnostics.push(
          this.diag(
            line,
            { start: 0, end: text.length },
            'json/blank-line',
            'blank line: most dataset loaders fail on empty lines',
            s,
          ),
        );
      }
      return { diagnostics };
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const s = sev.get('json/syntax');
      if (s !== 'off') {
        const p = findSyntaxError(text) ?? {
          start: firstNonWs(text),
          end: lastNonWs(text),
          message: e instanceof Error ? e.message : String(e),
        };
        diagnostics.push(this.diag(line, p, 'json/syntax', `invalid JSON: ${p.message}`, s));
      }
      return { diagnostics };
    }
    const recStart = firstNonWs(text);
    const recEnd = lastNonWs(text);
    const recSpan = { start: recStart, end: recEnd };
    // Nesting Python's json cannot read (its recursion limit is near 1000): counted only when the
    // line has brackets enough.
    if (mayBeTooDeep(text)) {
      try {
        detectStyle(text);
      } catch (e) {
        if (!(e instanceof JsonTooDeepError)) throw e;
        const s = sev.get('json/too-deep');
        if (s !== 'off')
          diagnostics.push(
            this.diag(line, { start: e.column - 1, end: e.column }, 'json/too-deep', e.message, s),
          );
        return { diagnostics };
      }
    }
    if (!bytes && !this.mapping) this.parsed = value;
    // Duplicate keys (JSON.parse keeps the last silently). The fast path never accepts a record
    // with one, so only this path looks.
    const dupSev = sev.get('json/duplicate-key');
    if (dupSev !== 'off' && mayRepeatKeys(text, value))
      for (const d of duplicateKeys(text)) {
        const end = text.indexOf(':', d.at);
        diagnostics.push(
          this.diag(
            line,
            { start: d.at, end: end > d.at ? end : d.at + d.key.length + 2 },
            'json/duplicate-key',
            `duplicate key ${JSON.stringify(d.key)} (first at column ${d.first + 1}): loaders keep only the last value`,
            dupSev,
          ),
        );
      }
    if (this.mapping && isObj(value)) value = mapRecord(value, this.mapping);
    const obj = isObj(value) ? value : undefined;
    if (!obj && !this.customSchema) {
      const s = sev.get('json/not-object');
      if (s !== 'off')
        diagnostics.push(this.diag(line, recSpan, 'json/not-object', 'the record must be a JSON object', s));
      return { diagnostics };
    }
    const format = this.forced ?? detectRecordFormat(value);
    const problems: Problem[] = [];
    const validator = this.customSchema ?? (format !== undefined ? builtinValidator(format) : undefined);
    if (validator === undefined) {
      const s = sev.get('format/unknown');
      if (s !== 'off') {
        const keys = obj
          ? Object.keys(obj)
              .slice(0, 6)
              .map((k) => `"${k}"`)
              .join(', ')
          : '';
        diagnostics.push(
          this.diag(
            line,
            recSpan,
            'format/unknown',
            `the record matches no known dataset format (keys: ${keys || 'none'}); expected e.g. "conversations", "messages", "instruction"/"output", "chosen"/"rejected"`,
            s,
          ),
        );
      }
    } else if (sev.on('schema') && !validator(value)) {
      for (const p of schemaProblems(validator.errors ?? [], value, parsePointer)) {
        problems.push({
          code: 'schema',
          pointer: p.pointer,
          target: p.target,
          message: p.message,
          keyword: p.keyword,
        });
      }
    }
    let facts: RecordFacts | undefined;
    if (obj) {
      const view = format !== undefined ? recordView(format, obj) : undefined;
      // preference/identical compares whole answers: from the exact text.
      if (bytes && view?.chosen && view.rejected && sev.on('preference/identical')) return undefined;
      if (view && format !== undefined) lint(view, sev, problems, bytes, format);
      if (view && (sev.on('media/count') || sev.on('media/missing-file'))) {
        const media = mediaProblems(
          obj,
          view,
          this.opts.mediaRoot,
          bytes,
          sev.on('media/count'),
          sev.on('media/missing-file'),
        );
        for (const p of media) problems.push({ ...p, target: 'value' });
      }
      // tokens/cutoff tokenizes the exact text.
      if (this.tokenRule && view && format !== undefined) {
        if (bytes) return undefined;
        const r = readRecord(value, format);
        if ('sample' in r) {
          const s = sev.get('tokens/cutoff');
          for (const p of this.tokenRule.check(text, r.sample, view, recSpan, this.mapping))
            if (s !== 'off') diagnostics.push(this.diag(line, p.span, 'tokens/cutoff', p.message, s));
        }
      }
      const dialogue = this.dialogueFacts(view, bytes);
      if (!dialogue) return undefined;
      let id = view?.id;
      if (bytes && typeof id === 'string') id = Buffer.from(id, 'latin1').toString('utf8');
      facts = {
        format: format === undefined ? -1 : FORMAT_IDS.indexOf(format),
        idHash:
          typeof id === 'string' || typeof id === 'number' ? hashString(typeof id + ':' + String(id)) : NaN,
        ...dialogue,
        kinds: view ? contentKinds(view) : 0,
        recStart,
        recEnd,
      };
    }
    for (const p of problems) {
      const s = sev.get(p.code);
      if (s === 'off') continue;
      const span = locate(text, this.mapping ? unmapPointer(p.pointer, this.mapping) : p.pointer, p.target);
      diagnostics.push(
        this.diag(
          line,
          span,
          p.code,
          p.message,
          s,
          p.keyword !== undefined ? `schema/${p.keyword}` : undefined,
        ),
      );
    }
    return { diagnostics, facts };
  }
}

/** Parses a record again (its format known) for what the cross-record rules need of it. */
function reread(
  raw: string,
  line: number,
  formatIndex: number,
  mapping?: RecordMapping,
): { text: string; view: RecordView } | undefined {
  const text = normaliseLine(raw, line);
  const format = FORMAT_IDS[formatIndex];
  if (format === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObj(value)) return undefined;
  return { text, view: recordView(format, mapping ? mapRecord(value, mapping) : value) };
}

/** Re-reads a record to find the span a cross-record diagnostic marks. */
export function resolveCrossSpan(
  raw: string,
  line: number,
  target: CrossTarget,
  formatIndex: number,
  mapping?: RecordMapping,
): Span | undefined {
  if (target === 'record') {
    const text = normaliseLine(raw, line);
    return { start: firstNonWs(text), end: lastNonWs(text) };
  }
  const r = reread(raw, line, formatIndex, mapping);
  if (!r) return undefined;
  const pointer =
    target === 'id'
      ? r.view.idPtr
      : firstContentOfKind(r.view, target === 'content-string' ? KIND_STRING : KIND_LIST);
  if (pointer === undefined) return undefined;
  return locate(r.text, mapping ? unmapPointer(pointer, mapping) : pointer, 'value');
}

/** Re-reads a record for the full hash of its dialogue (NaN when it no longer parses). */
export function rereadDialogueHash(
  raw: string,
  line: number,
  formatIndex: number,
  mapping?: RecordMapping,
): number {
  const r = reread(raw, line, formatIndex, mapping);
  return r ? dialogueHash(r.view) : NaN;
}

export type CrossTarget = 'record' | 'id' | 'content-string' | 'content-list';

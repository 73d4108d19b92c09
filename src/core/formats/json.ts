/**
 * JSON text helpers for one JSONL line: where a syntax error is, which serialisation style the
 * line was written in, and writing a value back in that style.
 */

import { writeOver } from './jsonKeep';

/** How a line was serialised, so that a rewritten line looks like its neighbours. */
export interface LineStyle {
  /** `': '` (Python `json.dumps` default) or `':'` (compact, `JSON.stringify`). */
  colon: ':' | ': ';
  /** `', '` (Python `json.dumps` default) or `','` (compact). */
  comma: ',' | ', ';
  /** Non-ASCII characters written as `\uXXXX` escapes (Python `ensure_ascii=True`). */
  ascii: boolean;
  /** Upper-case hex digits in `\uXXXX` escapes. */
  upperHex: boolean;
  /**
   * Number tokens whose text is not what `JSON.stringify` would write (`1.0`, `1e-07`), keyed by
   * their path (`JSON.stringify` of the key/index list). Reused when the value is unchanged.
   */
  numbers?: Record<string, string>;
  /**
   * The original JSON text the value was read from: parts of the value that did not change are
   * written with their original bytes (see jsonKeep.ts).
   */
  source?: string;
}

export const COMPACT_STYLE: LineStyle = { colon: ':', comma: ',', ascii: false, upperHex: false };

export interface JsonErrorLocation {
  /** 1-based column (UTF-16 code units) of the offending character. */
  column: number;
  message: string;
}

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);

function describe(text: string, i: number): string {
  if (i >= text.length) return 'unexpected end of line';
  const cp = text.codePointAt(i) ?? 0;
  const ch = String.fromCodePoint(cp);
  if (
    cp === 0xa0 ||
    cp === 0x3000 ||
    cp === 0xfeff ||
    (cp >= 0x2000 && cp <= 0x200f) ||
    (cp >= 0x7f && cp < 0xa0)
  )
    return `unexpected character U+${cp.toString(16).padStart(4, '0').toUpperCase()} (not JSON whitespace)`;
  return cp < 0x20
    ? `unexpected control character U+${cp.toString(16).padStart(4, '0').toUpperCase()}`
    : `unexpected character '${ch}'`;
}

class SyntaxFault extends Error {
  constructor(
    readonly index: number,
    message: string,
    /** Valid JSON, but nested deeper than MAX_JSON_DEPTH. */
    readonly tooDeep = false,
  ) {
    super(message);
  }
}

/**
 * The deepest nesting of objects and arrays a record may have. Python's json stops at its
 * recursion limit (1000) and our writers recurse: a deeper record is reported, not read.
 */
export const MAX_JSON_DEPTH = 900;

/**
 * A single pass over JSON text that visits every token, tracking the path of each value.
 * Used both to locate syntax errors and to learn a valid line's style.
 */
class Scanner {
  i = 0;
  readonly path: (string | number)[] = [];
  colonSpace: boolean | undefined;
  commaSpace: boolean | undefined;
  escapedNonAscii = false;
  rawNonAscii = false;
  upperHex: boolean | undefined;
  numbers: Record<string, string> | undefined;

  constructor(readonly text: string) {}

  fail(message?: string): never {
    throw new SyntaxFault(this.i, message ?? describe(this.text, this.i));
  }

  ws(): void {
    const t = this.text;
    while (this.i < t.length && WS.has(t.charCodeAt(this.i))) this.i++;
  }

  document(): void {
    this.ws();
    this.value();
    this.ws();
    if (this.i < this.text.length)
      this.fail(`unexpected '${this.text[this.i]}' after the end of the JSON value`);
  }

  value(): void {
    const t = this.text;
    const c = t.charCodeAt(this.i);
    if (c === 0x7b) this.object();
    else if (c === 0x5b) this.array();
    else if (c === 0x22) this.string();
    else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) this.number();
    else if (t.startsWith('true', this.i)) this.i += 4;
    else if (t.startsWith('false', this.i)) this.i += 5;
    else if (t.startsWith('null', this.i)) this.i += 4;
    else this.fail(this.i >= t.length ? 'unexpected end of line: a value is missing' : undefined);
  }

  separator(kind: 'colon' | 'comma'): void {
    // Called just after ':' or ','; records whether a space follows.
    const space = this.text.charCodeAt(this.i) === 0x20;
    if (kind === 'colon') this.colonSpace ??= space;
    else this.commaSpace ??= space;
  }

  depth = 0;

  /** Steps into an object or array; true when it closes at once (`close` is its closing char code). */
  private openEmpty(close: number): boolean {
    if (++this.depth > MAX_JSON_DEPTH) {
      throw new SyntaxFault(
        this.i,
        `nested deeper than ${MAX_JSON_DEPTH} levels (loaders such as Python's json fail on it)`,
        true,
      );
    }
    this.i++;
    this.ws();
    if (this.text.charCodeAt(this.i) !== close) return false;
    this.i++;
    return true;
  }

  /** After a member: true when a ',' announces another one, false when `close` (`closeChar`) ends the container. */
  private more(close: number, closeChar: string): boolean {
    this.ws();
    const c = this.text.charCodeAt(this.i);
    if (c === 0x2c) {
      this.i++;
      this.separator('comma');
      this.ws();
      return true;
    }
    if (c === close) {
      this.i++;
      return false;
    }
    this.fail(
      this.i >= this.text.length
        ? `unexpected end of line: missing '${closeChar}'`
        : `expected ',' or '${closeChar}'`,
    );
  }

  object(): void {
    this.members();
    this.depth--;
  }

  private members(): void {
    if (this.openEmpty(0x7d)) return;
    for (;;) {
      if (this.text.charCodeAt(this.i) !== 0x22)
        this.fail(
          this.i >= this.text.length ? 'unexpected end of line inside an object' : 'expected a "quoted" key',
        );
      const keyStart = this.i;
      this.string();
      const key = JSON.parse(this.text.slice(keyStart, this.i)) as string;
      this.ws();
      if (this.text.charCodeAt(this.i) !== 0x3a) this.fail(`expected ':' after the key "${key}"`);
      this.i++;
      this.separator('colon');
      this.ws();
      this.path.push(key);
      this.value();
      this.path.pop();
      if (!this.more(0x7d, '}')) return;
    }
  }

  array(): void {
    this.elements();
    this.depth--;
  }

  private elements(): void {
    if (this.openEmpty(0x5d)) return;
    for (let index = 0; ; index++) {
      this.path.push(index);
      this.value();
      this.path.pop();
      if (!this.more(0x5d, ']')) return;
    }
  }

  string(): void {
    const t = this.text;
    const start = this.i;
    this.i++;
    for (;;) {
      if (this.i >= t.length) {
        this.i = start;
        this.fail('unterminated string');
      }
      const c = t.charCodeAt(this.i);
      if (c === 0x22) {
        this.i++;
        return;
      }
      if (c < 0x20) this.fail();
      if (c > 0x7e) this.rawNonAscii = true;
      if (c === 0x5c) {
        const e = t.charCodeAt(this.i + 1);
        if (e === 0x75) {
          const hex = t.slice(this.i + 2, this.i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) this.fail('invalid \\u escape');
          const code = parseInt(hex, 16);
          if (code > 0x7e) this.escapedNonAscii = true;
          if (/[a-f]/.test(hex)) this.upperHex ??= false;
          else if (/[A-F]/.test(hex)) this.upperHex ??= true;
          this.i += 6;
          continue;
        }
        if ('"\\/bfnrt'.includes(t[this.i + 1] ?? '')) {
          this.i += 2;
          continue;
        }
        this.i++;
        this.fail('invalid escape sequence');
      }
      this.i++;
    }
  }

  number(): void {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.text.slice(this.i, this.i + 400));
    if (!m) this.fail('invalid number');
    const raw = m[0];
    if (String(Number(raw)) !== raw) (this.numbers ??= {})[JSON.stringify(this.path)] = raw;
    this.i += raw.length;
  }
}

/** Thrown by detectStyle for valid JSON nested deeper than MAX_JSON_DEPTH. */
export class JsonTooDeepError extends Error {
  constructor(
    /** 1-based column of the bracket that goes too deep. */
    readonly column: number,
    message: string,
  ) {
    super(message);
  }
}

/** Where the JSON syntax error in `text` is, or undefined when `text` is valid JSON. */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  const s = new Scanner(text);
  try {
    s.document();
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxFault) return { column: e.index + 1, message: e.message };
    throw e;
  }
}

/**
 * The serialisation style of one valid JSON line (throws JsonTooDeepError when it is nested deeper
 * than MAX_JSON_DEPTH). Where the line gives no evidence (no separator,
 * no non-ASCII text) `fallback` decides (e.g. the style of a neighbouring line), else compact/raw.
 */
export function detectStyle(line: string, fallback: LineStyle = COMPACT_STYLE): LineStyle {
  const s = new Scanner(line);
  try {
    s.document();
  } catch (e) {
    if (e instanceof SyntaxFault && e.tooDeep) throw new JsonTooDeepError(e.index + 1, e.message);
    if (e instanceof SyntaxFault) return { ...fallback };
    throw e;
  }
  const style: LineStyle = {
    colon: s.colonSpace === undefined ? fallback.colon : s.colonSpace ? ': ' : ':',
    comma: s.commaSpace === undefined ? fallback.comma : s.commaSpace ? ', ' : ',',
    ascii: s.escapedNonAscii || s.rawNonAscii ? s.escapedNonAscii && !s.rawNonAscii : fallback.ascii,
    upperHex: s.upperHex ?? fallback.upperHex,
  };
  if (s.numbers) style.numbers = s.numbers;
  return style;
}

function quote(s: string, style: LineStyle): string {
  const q = JSON.stringify(s);
  if (!style.ascii && !style.upperHex) return q;
  let out = style.ascii
    ? q.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'))
    : q;
  if (style.upperHex) out = out.replace(/\\u([0-9a-f]{4})/g, (_m, h: string) => '\\u' + h.toUpperCase());
  return out;
}

/**
 * JSON text of `value` in `style` (one line). Object key order is kept; `undefined` members are
 * left out as `JSON.stringify` does.
 */
export function serializeLike(value: unknown, style: LineStyle = COMPACT_STYLE): string {
  if (style.source !== undefined) {
    const plain: LineStyle = { ...style, source: undefined, numbers: undefined };
    const kept = writeOver(style.source, value, {
      key: (k) => quote(k, plain),
      value: (v) => serializeLike(v, plain),
      colon: style.colon,
      comma: style.comma,
    });
    if (kept !== undefined) return kept;
  }
  // Compact, raw non-ASCII, no number spellings to keep: exactly JSON.stringify, in one call, for
  // values of the JSON model (plain objects and arrays, strings, numbers, booleans, null; no toJSON).
  if (
    style.colon === ':' &&
    style.comma === ',' &&
    !style.ascii &&
    !style.upperHex &&
    style.numbers === undefined
  ) {
    // JSON.stringify gives undefined for undefined and functions (typed string).
    return JSON.stringify(value) ?? 'null';
  }
  const parts: string[] = [];
  const path: (string | number)[] = [];
  const numbers = style.numbers;
  const write = (v: unknown): void => {
    if (v === null) parts.push('null');
    else if (typeof v === 'string') parts.push(quote(v, style));
    else if (typeof v === 'number') {
      if (!Number.isFinite(v)) parts.push('null');
      else {
        const raw = numbers?.[JSON.stringify(path)];
        parts.push(raw !== undefined && Number(raw) === v ? raw : String(v));
      }
    } else if (typeof v === 'boolean') parts.push(v ? 'true' : 'false');
    else if (Array.isArray(v)) {
      parts.push('[');
      v.forEach((item: unknown, i) => {
        if (i > 0) parts.push(style.comma);
        path.push(i);
        write(item === undefined || typeof item === 'function' ? null : item);
        path.pop();
      });
      parts.push(']');
    } else if (typeof v === 'object') {
      parts.push('{');
      let first = true;
      for (const [k, item] of Object.entries(v as Record<string, unknown>)) {
        if (item === undefined || typeof item === 'function') continue;
        if (!first) parts.push(style.comma);
        first = false;
        parts.push(quote(k, style), style.colon);
        path.push(k);
        write(item);
        path.pop();
      }
      parts.push('}');
    } else parts.push('null');
  };
  write(value);
  return parts.join('');
}

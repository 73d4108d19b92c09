/**
 * A small JSON scanner for one line of a JSONL file. It never builds values: it finds where things
 * are. Two jobs, both only run for lines that already failed the fast path (JSON.parse + the
 * compiled schema):
 *   - `findSyntaxError`: the offset of the first character that makes the text invalid JSON,
 *     with a message people understand (independent of the engine's error text);
 *   - `locate`: the [start, end) offsets of the value (or key) a JSON pointer names.
 * Offsets are UTF-16 code unit indexes into the string, which is what editors call columns.
 */

export interface Span {
  start: number;
  end: number;
}

export interface SyntaxProblem extends Span {
  message: string;
}

const C = {
  Tab: 9,
  LF: 10,
  CR: 13,
  Space: 32,
  Quote: 34,
  Plus: 43,
  Comma: 44,
  Minus: 45,
  Dot: 46,
  Slash: 47,
  D0: 48,
  D1: 49,
  D9: 57,
  Colon: 58,
  OpenBracket: 91,
  Backslash: 92,
  CloseBracket: 93,
  LowerE: 101,
  UpperE: 69,
  LowerU: 117,
  OpenBrace: 123,
  CloseBrace: 125,
} as const;

class SyntaxFail extends Error {
  constructor(
    readonly start: number,
    readonly end: number,
    message: string,
  ) {
    super(message);
  }
}

function isWs(c: number): boolean {
  return c === C.Space || c === C.Tab || c === C.LF || c === C.CR;
}

function isDigit(c: number): boolean {
  return c >= C.D0 && c <= C.D9;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

/** How a character is shown in a message: printable as itself, others (and Unicode spaces) as U+XXXX. */
function show(text: string, i: number): string {
  const cp = text.codePointAt(i) ?? 0;
  if (
    cp < 0x20 ||
    (cp >= 0x7f && cp <= 0xa0) ||
    (cp >= 0xd800 && cp <= 0xdfff) ||
    (cp >= 0x2000 && cp <= 0x200f) ||
    cp === 0x3000 ||
    cp === 0xfeff
  ) {
    return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return `'${String.fromCodePoint(cp)}'`;
}

/** Length in UTF-16 units of the character at i (2 for a surrogate pair). */
function charLen(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const d = text.charCodeAt(i + 1);
    if (d >= 0xdc00 && d <= 0xdfff) return 2;
  }
  return 1;
}

/** Strict JSON scanner (RFC 8259) over text[pos, end). Throws SyntaxFail. */
class Scanner {
  pos: number;

  constructor(
    readonly text: string,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  fail(at: number, message: string, len?: number): never {
    const l = len ?? (at < this.end ? charLen(this.text, at) : 0);
    throw new SyntaxFail(at, at + l, message);
  }

  ws(): void {
    const t = this.text;
    while (this.pos < this.end && isWs(t.charCodeAt(this.pos))) this.pos++;
  }

  /** Scans one value starting at the current (non-whitespace) position; returns its start. */
  value(): number {
    this.ws();
    const start = this.pos;
    if (start >= this.end) this.fail(start, 'unexpected end of line: expected a JSON value');
    const c = this.text.charCodeAt(start);
    if (c === C.OpenBrace) this.object();
    else if (c === C.OpenBracket) this.array();
    else if (c === C.Quote) this.string();
    else if (c === C.Minus || isDigit(c)) this.number();
    else if (c === 116) this.literal('true');
    else if (c === 102) this.literal('false');
    else if (c === 110) this.literal('null');
    else if (c === C.CloseBrace || c === C.CloseBracket || c === C.Comma || c === C.Colon)
      this.fail(start, `expected a JSON value, found ${show(this.text, start)}`);
    else if (c === 39) this.fail(start, 'expected a JSON value: strings must use double quotes ("), not \'');
    else this.fail(start, `expected a JSON value, found ${show(this.text, start)}`);
    return start;
  }

  literal(word: string): void {
    const t = this.text;
    for (let k = 0; k < word.length; k++) {
      const at = this.pos + k;
      if (at >= this.end) this.fail(at, `unexpected end of line: expected '${word}'`);
      if (t.charCodeAt(at) !== word.charCodeAt(k)) this.fail(at, `invalid literal: expected '${word}'`);
    }
    this.pos += word.length;
  }

  number(): void {
    const t = this.text;
    let p = this.pos;
    if (t.charCodeAt(p) === C.Minus) {
      p++;
      if (p >= this.end || !isDigit(t.charCodeAt(p)))
        this.fail(p, "invalid number: expected a digit after '-'");
    }
    if (t.charCodeAt(p) === C.D0) {
      p++;
      if (p < this.end && isDigit(t.charCodeAt(p)))
        this.fail(p, 'invalid number: leading zeros are not allowed');
    } else {
      while (p < this.end && isDigit(t.charCodeAt(p))) p++;
    }
    if (p < this.end && t.charCodeAt(p) === C.Dot) {
      p++;
      if (p >= this.end || !isDigit(t.charCodeAt(p)))
        this.fail(p, "invalid number: expected a digit after '.'");
      while (p < this.end && isDigit(t.charCodeAt(p))) p++;
    }
    if (p < this.end && (t.charCodeAt(p) === C.LowerE || t.charCodeAt(p) === C.UpperE)) {
      p++;
      if (p < this.end && (t.charCodeAt(p) === C.Plus || t.charCodeAt(p) === C.Minus)) p++;
      if (p >= this.end || !isDigit(t.charCodeAt(p)))
        this.fail(p, 'invalid number: expected a digit in the exponent');
      while (p < this.end && isDigit(t.charCodeAt(p))) p++;
    }
    this.pos = p;
  }

  /** Scans a string; returns true when it contained an escape. */
  string(): boolean {
    const t = this.text;
    const open = this.pos;
    let p = open + 1;
    let escaped = false;
    for (;;) {
      if (p >= this.end) {
        throw new SyntaxFail(
          open,
          this.end,
          `unterminated string: no closing '"' before the end of the line`,
        );
      }
      const c = t.charCodeAt(p);
      if (c === C.Quote) break;
      if (c === C.Backslash) {
        escaped = true;
        const e = p + 1 < this.end ? t.charCodeAt(p + 1) : -1;
        if (e === -1)
          throw new SyntaxFail(
            open,
            this.end,
            `unterminated string: no closing '"' before the end of the line`,
          );
        if (e === C.LowerU) {
          for (let k = 2; k < 6; k++) {
            if (p + k >= this.end || !isHex(t.charCodeAt(p + k))) {
              throw new SyntaxFail(
                p,
                Math.min(p + k + 1, this.end),
                'invalid \\u escape: expected 4 hex digits',
              );
            }
          }
          p += 6;
          continue;
        }
        // " \ / b f n r t
        if (
          e === 34 ||
          e === 92 ||
          e === 47 ||
          e === 98 ||
          e === 102 ||
          e === 110 ||
          e === 114 ||
          e === 116
        ) {
          p += 2;
          continue;
        }
        throw new SyntaxFail(
          p,
          p + 1 + charLen(t, p + 1),
          `invalid escape sequence '\\${String.fromCodePoint(t.codePointAt(p + 1) ?? 0)}' in string`,
        );
      }
      if (c < 0x20) this.fail(p, `control character ${show(t, p)} in string must be escaped`);
      p++;
    }
    this.pos = p + 1;
    return escaped;
  }

  object(): void {
    const t = this.text;
    this.pos++; // {
    this.ws();
    if (this.pos < this.end && t.charCodeAt(this.pos) === C.CloseBrace) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.pos >= this.end)
        this.fail(this.pos, "unexpected end of line: expected a property name or '}'");
      const c = t.charCodeAt(this.pos);
      if (c !== C.Quote) {
        if (c === C.CloseBrace)
          this.fail(this.pos, "expected a property name after ',' (trailing commas are not allowed)");
        this.fail(this.pos, `expected a property name in double quotes, found ${show(t, this.pos)}`);
      }
      this.string();
      this.ws();
      if (this.pos >= this.end)
        this.fail(this.pos, "unexpected end of line: expected ':' after property name");
      if (t.charCodeAt(this.pos) !== C.Colon)
        this.fail(this.pos, `expected ':' after property name, found ${show(t, this.pos)}`);
      this.pos++;
      this.value();
      this.ws();
      if (this.pos >= this.end)
        this.fail(this.pos, "unexpected end of line: expected ',' or '}' after property value");
      const d = t.charCodeAt(this.pos);
      if (d === C.Comma) {
        this.pos++;
        continue;
      }
      if (d === C.CloseBrace) {
        this.pos++;
        return;
      }
      this.fail(this.pos, `expected ',' or '}' after property value, found ${show(t, this.pos)}`);
    }
  }

  array(): void {
    const t = this.text;
    this.pos++; // [
    this.ws();
    if (this.pos < this.end && t.charCodeAt(this.pos) === C.CloseBracket) {
      this.pos++;
      return;
    }
    for (;;) {
      this.ws();
      if (this.pos < this.end && t.charCodeAt(this.pos) === C.CloseBracket) {
        this.fail(this.pos, "expected a value after ',' (trailing commas are not allowed)");
      }
      this.value();
      this.ws();
      if (this.pos >= this.end)
        this.fail(this.pos, "unexpected end of line: expected ',' or ']' after array element");
      const d = t.charCodeAt(this.pos);
      if (d === C.Comma) {
        this.pos++;
        continue;
      }
      if (d === C.CloseBracket) {
        this.pos++;
        return;
      }
      this.fail(this.pos, `expected ',' or ']' after array element, found ${show(t, this.pos)}`);
    }
  }
}

/**
 * The first syntax error of `text[start, end)` read as one JSON value surrounded by optional
 * whitespace, or undefined when it is valid JSON.
 */
export function findSyntaxError(text: string, start = 0, end = text.length): SyntaxProblem | undefined {
  const s = new Scanner(text, start, end);
  try {
    s.value();
    s.ws();
    if (s.pos < end) s.fail(s.pos, `unexpected ${show(text, s.pos)} after the end of the JSON value`);
    return undefined;
  } catch (e) {
    if (e instanceof SyntaxFail) return { start: e.start, end: e.end, message: e.message };
    if (e instanceof RangeError) return { start, end, message: 'the JSON is nested too deeply to check' };
    throw e;
  }
}

/** Splits a JSON pointer ("/a/0/b~1c") into its unescaped segments. */
export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => (s.includes('~') ? s.replace(/~1/g, '/').replace(/~0/g, '~') : s));
}

/** Builds a JSON pointer from segments. */
export function toPointer(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) out += '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1');
  return out;
}

export type LocateTarget = 'value' | 'key';

/**
 * The span of the value named by `pointer` in the JSON text[start, end) (which must be valid
 * JSON), or, with target 'key', the span of the property name (quotes included) of the last
 * segment. For duplicate keys the last one wins, as in JSON.parse. Returns the span of the
 * deepest value reached when the pointer goes further than the text.
 */
export function locate(
  text: string,
  pointer: string | readonly string[],
  target: LocateTarget = 'value',
  start = 0,
  end = text.length,
): Span {
  const segs = typeof pointer === 'string' ? parsePointer(pointer) : pointer;
  const s = new Scanner(text, start, end);
  s.ws();
  let valueStart = s.pos;
  let keySpan: Span | undefined;
  try {
    for (let depth = 0; depth < segs.length; depth++) {
      const seg = segs[depth];
      s.pos = valueStart;
      const c = text.charCodeAt(valueStart);
      if (c === C.OpenBrace) {
        const found = findMember(s, seg);
        if (!found) break;
        valueStart = found.valueStart;
        keySpan = found.key;
      } else if (c === C.OpenBracket) {
        const idx = /^(0|[1-9][0-9]*)$/.test(seg) ? Number(seg) : -1;
        const found = idx < 0 ? undefined : findElement(s, idx);
        if (found === undefined) break;
        valueStart = found;
        keySpan = undefined;
      } else {
        break;
      }
      if (depth === segs.length - 1 && target === 'key' && keySpan) return keySpan;
    }
    s.pos = valueStart;
    s.value();
    return { start: valueStart, end: s.pos };
  } catch (e) {
    if (e instanceof SyntaxFail || e instanceof RangeError) return { start: valueStart, end };
    throw e;
  }
}

function findMember(s: Scanner, name: string): { key: Span; valueStart: number } | undefined {
  const t = s.text;
  s.pos++; // {
  let found: { key: Span; valueStart: number } | undefined;
  for (;;) {
    s.ws();
    if (t.charCodeAt(s.pos) === C.CloseBrace) return found;
    const keyStart = s.pos;
    const escaped = s.string();
    const keyEnd = s.pos;
    const key = escaped
      ? (JSON.parse(t.slice(keyStart, keyEnd)) as string)
      : t.slice(keyStart + 1, keyEnd - 1);
    s.ws();
    s.pos++; // :
    const vs = s.value();
    if (key === name) found = { key: { start: keyStart, end: keyEnd }, valueStart: vs };
    s.ws();
    if (t.charCodeAt(s.pos) === C.Comma) s.pos++;
    else return found;
  }
}

function findElement(s: Scanner, index: number): number | undefined {
  const t = s.text;
  s.pos++; // [
  s.ws();
  if (t.charCodeAt(s.pos) === C.CloseBracket) return undefined;
  for (let i = 0; ; i++) {
    const vs = s.value();
    if (i === index) return vs;
    s.ws();
    if (t.charCodeAt(s.pos) === C.Comma) s.pos++;
    else return undefined;
  }
}

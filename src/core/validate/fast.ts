/**
 * The byte-level fast path of validation: one scan of a line of raw UTF-8 (read as Latin-1, see
 * RawLine) that recognises a ShareGPT record with nothing to report, and computes its facts for the
 * cross-record rules, without building the JSON tree. It accepts only a strict subset of what the
 * full check accepts — `{"id": string, "conversations": [{"from", "value"}, ...]}` in any key order,
 * spaces as the only whitespace, short escapes, known roles that alternate from a user turn to a
 * final assistant turn, no empty text — and answers "not sure" for anything else, which the caller
 * then checks the full way (JSON.parse, the schema, the lint rules). So every verdict is the full
 * check's: test/unit/validate/fast.test.ts compares the two on fixtures and random records.
 */
import {
  ESCAPED,
  hashCode,
  hashNormRawBackward,
  hashNormRawForward,
  hashStart,
  hashValue,
  SIG_CHARS,
} from './hash';
import type { RawLine } from './lines';

/** What the fast path computes for an accepted record (see RecordFacts). */
export interface FastFacts {
  idHash: number;
  signature: number;
  recStart: number;
  recEnd: number;
}

/** Control characters: JSON forbids them in strings; as whitespace (tab, CR) the fast path does not read them. */
/**
 * Whether bytes[start, end) hold a control character (below 0x20): four bytes at a time (the
 * classic "has a byte less than n" test on 32-bit words), then byte by byte where a word has one.
 */
export function hasControl(bytes: Uint8Array, start: number, end: number): boolean {
  let i = start;
  const lead = Math.min(end, (start + 3) & ~3);
  for (; i < lead; i++) if (bytes[i] < 0x20) return true;
  const words = wordsOf(bytes);
  if (words !== undefined) {
    const last = (end & ~3) >> 2;
    for (let w = i >> 2; w < last; w++) {
      const x = words[w];
      if (((x - 0x20202020) & ~x & 0x80808080) !== 0) {
        for (let j = w << 2; j < (w << 2) + 4; j++) if (bytes[j] < 0x20) return true;
      }
    }
    i = Math.max(i, last << 2);
  }
  for (; i < end; i++) if (bytes[i] < 0x20) return true;
  return false;
}

let wordsFor: Uint8Array | undefined;
let wordsView: Uint32Array | undefined;

/** A 32-bit view of the bytes when they start on a 4-byte boundary (cached for the last buffer). */
function wordsOf(bytes: Uint8Array): Uint32Array | undefined {
  if (bytes === wordsFor) return wordsView;
  wordsFor = bytes;
  wordsView =
    bytes.byteOffset % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >> 2)
      : undefined;
  return wordsView;
}

const Q = 0x22;
const BS = 0x5c;
const SP = 0x20;

/** Role class codes as dialogueHash hashes them ('U', 'A', 'S'); 0 = not handled here. */
function roleCode(s: string, a: number, b: number): number {
  switch (b - a) {
    case 3:
      return s.startsWith('gpt', a) ? 0x41 : 0;
    case 4:
      return s.startsWith('user', a) ? 0x55 : 0;
    case 5:
      return s.startsWith('human', a) ? 0x55 : 0;
    case 6:
      return s.startsWith('system', a) ? 0x53 : 0;
    case 9:
      return s.startsWith('assistant', a) ? 0x41 : 0;
    default:
      return 0;
  }
}

/**
 * Whether the raw JSON string content s[a, b) holds something other than whitespace, as
 * isBlankBytes reads the decoded text.
 */
function hasText(s: string, a: number, b: number): boolean {
  for (let i = a; i < b; i++) {
    let c = s.charCodeAt(i);
    if (c === BS) c = ESCAPED[s.charCodeAt(++i)];
    if (c <= 32) continue;
    const d = s.charCodeAt(i + 1);
    if (c === 0xc2 && d === 0xa0) i += 1;
    else if (c === 0xe2 && d === 0x80 && s.charCodeAt(i + 2) >= 0x80 && s.charCodeAt(i + 2) <= 0x8b) i += 2;
    else if (c === 0xe3 && d === 0x80 && s.charCodeAt(i + 2) === 0x80) i += 2;
    else return true;
  }
  return false;
}

/** One scan over a line; `bs` caches the position of the next backslash. */
class Scanner {
  s = '';
  start = -1;
  end = 0;
  private bs = -1;
  /** Whether the last string read had an escape. */
  escaped = false;

  /** Starts a line s[.., end); the backslash cache is kept along a block (lines come in order). */
  reset(s: string, start: number, end: number): void {
    // A line that does not start after the last one is in another block (or another string).
    if (start <= this.start) this.bs = -1;
    this.s = s;
    this.start = start;
    this.end = end;
  }

  ws(i: number): number {
    while (this.s.charCodeAt(i) === SP) i++;
    return i;
  }

  /**
   * Reads the string whose opening quote is at `i`: the index of its closing quote, or -1 when it
   * ends the line or has an escape the fast path does not take (all but the short ones).
   */
  string(i: number): number {
    const s = this.s;
    let from = i + 1;
    let q = -1;
    this.escaped = false;
    for (;;) {
      if (q < from) {
        q = s.indexOf('"', from);
        if (q < 0 || q >= this.end) return -1;
      }
      if (this.bs < from) {
        this.bs = s.indexOf('\\', from);
        if (this.bs < 0) this.bs = s.length;
      }
      if (this.bs > q) return q;
      // An escape before the quote (perhaps of the quote itself): check it and go on after it.
      this.escaped = true;
      const e = s.charCodeAt(this.bs + 1);
      if (e >= 128 || ESCAPED[e] === 0) return -1;
      from = this.bs + 2;
    }
  }
}

const scanner = new Scanner();

/** Hashes a text the way the signature hasher does (its first and last characters). */
function hashText(s: string, a: number, b: number): void {
  if (hashNormRawForward(s, a, b, SIG_CHARS) === 0) return;
  hashCode(0x19);
  hashNormRawBackward(s, a, b, SIG_CHARS);
}

/**
 * The fast path for a line as forEachLine hands it over (its block valid UTF-8, not line 0 starting
 * with a BOM): true, with `out` filled, when it is a record the full check finds nothing wrong
 * with; false when it cannot tell.
 */
export function fastLine(l: RawLine, out: FastFacts): boolean {
  const end = l.end > l.start && l.buf[l.end - 1] === 13 ? l.end - 1 : l.end;
  if (l.hasControl(end)) return false;
  return l.block !== undefined
    ? fastShareGpt(l.block, l.start, l.end, out)
    : fastShareGpt(l.latin, 0, l.latin.length, out);
}

const STRING_PREFIX = 'string:';
const NUMBER_PREFIX = 'number:';

/**
 * The fast path for one line: `s[start, end)` is its Latin-1 text without '\n' (`s` may hold the
 * whole block); its block is valid UTF-8; not line 0 starting with a BOM; no control character in
 * it but perhaps a final '\r' (the caller checks, see RawLine.hasControl). Fills `out` (spans
 * relative to `start`) and returns true when the line is a ShareGPT record the full check finds
 * nothing wrong with; false when it cannot tell.
 */
export function fastShareGpt(s: string, start: number, end: number, out: FastFacts): boolean {
  if (s.charCodeAt(end - 1) === 13) end--;
  const sc = scanner;
  sc.reset(s, start, end);
  let i = sc.ws(start);
  if (s.charCodeAt(i) !== 0x7b) return false;
  const recStart = i - start;
  let idStart = -1;
  let idEnd = -1;
  let idNumber = false;
  let seenConv = false;
  i = sc.ws(i + 1);
  // The signature is hashed as the turns are read: hashStart, no system, 0x1a, then each turn.
  hashStart();
  hashCode(0x1a);
  for (;;) {
    if (s.charCodeAt(i) !== Q) return false;
    const k = sc.string(i);
    if (k < 0 || sc.escaped) return false;
    const klen = k - i - 1;
    i = sc.ws(k + 1);
    if (s.charCodeAt(i) !== 0x3a) return false;
    i = sc.ws(i + 1);
    if (klen === 2 && s.charCodeAt(k - 2) === 0x69 && s.charCodeAt(k - 1) === 0x64) {
      if (idStart >= 0) return false;
      if (s.charCodeAt(i) === Q) {
        const q = sc.string(i);
        if (q < 0 || sc.escaped) return false;
        idStart = i + 1;
        idEnd = q;
        for (let j = idStart; j < idEnd; j++) if (s.charCodeAt(j) >= 0x80) return false;
        idNumber = false;
        i = q + 1;
      } else {
        // An integer that String() writes back the same: no sign on 0, no leading 0, 15 digits at most.
        idStart = i;
        if (s.charCodeAt(i) === 0x2d) i++;
        const d = i;
        while (s.charCodeAt(i) >= 0x30 && s.charCodeAt(i) <= 0x39) i++;
        const digits = i - d;
        if (digits === 0 || digits > 15 || (digits > 1 && s.charCodeAt(d) === 0x30)) return false;
        if (digits === 1 && s.charCodeAt(d) === 0x30 && d > idStart) return false;
        const c = s.charCodeAt(i);
        if (c !== SP && c !== 0x2c && c !== 0x7d) return false;
        idEnd = i;
        idNumber = true;
      }
    } else if (klen === 13 && s.startsWith('conversations', k - 13)) {
      if (seenConv || s.charCodeAt(i) !== 0x5b) return false;
      seenConv = true;
      i = turns(s, i);
      if (i < 0) return false;
    } else return false;
    i = sc.ws(i);
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i = sc.ws(i + 1);
      continue;
    }
    if (c !== 0x7d) return false;
    break;
  }
  if (!seenConv) return false;
  if (sc.ws(i + 1) !== end) return false;
  const recEnd = i + 1 - start;
  out.signature = hashValue();
  if (idStart < 0) out.idHash = NaN;
  else {
    // hashString(typeof id + ':' + String(id)), from the bytes.
    const prefix = idNumber ? NUMBER_PREFIX : STRING_PREFIX;
    hashStart();
    for (let j = 0; j < prefix.length; j++) hashCode(prefix.charCodeAt(j));
    for (let j = idStart; j < idEnd; j++) hashCode(s.charCodeAt(j));
    out.idHash = hashValue();
  }
  out.recStart = recStart;
  out.recEnd = recEnd;
  return true;
}

/**
 * Reads the conversations array at `i` ('['), hashing each turn into the running signature: the
 * index after its ']', or -1. The roles must alternate user, assistant, ... with at most a system
 * turn first, and end with an assistant turn; every text must have something in it.
 */
function turns(s: string, i: number): number {
  const sc = scanner;
  i = sc.ws(i + 1);
  let n = 0;
  let prev = 0; // class of the previous non-system turn
  for (;;) {
    if (s.charCodeAt(i) !== 0x7b) return -1;
    i = sc.ws(i + 1);
    let role = 0;
    let va = -1;
    let vb = -1;
    for (;;) {
      if (s.charCodeAt(i) !== Q) return -1;
      const k = sc.string(i);
      if (k < 0 || sc.escaped) return -1;
      const klen = k - i - 1;
      i = sc.ws(k + 1);
      if (s.charCodeAt(i) !== 0x3a) return -1;
      i = sc.ws(i + 1);
      if (s.charCodeAt(i) !== Q) return -1;
      const q = sc.string(i);
      if (q < 0) return -1;
      if (klen === 4 && s.startsWith('from', k - 4)) {
        if (role !== 0 || sc.escaped) return -1;
        role = roleCode(s, i + 1, q);
        if (role === 0) return -1;
      } else if (klen === 5 && s.startsWith('value', k - 5)) {
        if (va >= 0) return -1;
        va = i + 1;
        vb = q;
      } else return -1;
      i = sc.ws(q + 1);
      const c = s.charCodeAt(i);
      if (c === 0x2c) {
        i = sc.ws(i + 1);
        continue;
      }
      if (c !== 0x7d) return -1;
      break;
    }
    if (role === 0 || va < 0 || !hasText(s, va, vb)) return -1;
    if (role === 0x53) {
      if (n > 0) return -1; // role/system-not-first
    } else {
      if (role === (prev === 0x55 ? 0x41 : 0x55)) prev = role;
      else return -1; // role/alternation
    }
    hashCode(role);
    hashCode(0x1e);
    hashText(s, va, vb);
    hashCode(0x1d);
    n++;
    i = sc.ws(i + 1);
    const c = s.charCodeAt(i);
    if (c === 0x2c) {
      i = sc.ws(i + 1);
      continue;
    }
    if (c !== 0x5d) return -1;
    // dialogue/last-not-assistant: the last turn must be an assistant turn (a system turn is not).
    if (role !== 0x41) return -1;
    return i + 1;
  }
}

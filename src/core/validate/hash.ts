/**
 * The hashes of validation: two 32-bit FNV-style lanes packed into a 53-bit number, over whitespace-
 * normalised text read from UTF-16 strings or from raw UTF-8 (see RawLine).
 */

// The state lives in an Int32Array: module-level `let`s holding 32-bit values would be boxed
// as heap numbers on every write; loops copy it into locals.
const H = new Int32Array(2);

export function hashStart(): void {
  H[0] = 0x811c9dc5;
  H[1] = 0x2545f491;
}

export function hashCode(c: number): void {
  H[0] = Math.imul(H[0] ^ c, 0x01000193);
  H[1] = Math.imul(H[1] ^ c, 0x5bd1e995);
}

/** Characters read at each end of a text for a dialogue's signature. */
export const SIG_CHARS = 16;

/**
 * How hashNorm reads characters: EXACT, each UTF-16 code unit; LEADS and BYTES, each character by
 * its code point, from UTF-16 text (LEADS, a surrogate pair read as one) or from raw UTF-8 read as
 * Latin-1, one char per byte (BYTES, see RawLine; decoded at the lead byte, continuation bytes
 * skipped). LEADS and BYTES give the same value for the same text, so signatures of records read
 * either way compare alike. (Reading only the lead byte made texts in one script, e.g. Chinese,
 * share their signatures, and sent them all to the full hash.)
 */
export const EXACT = 0;
export const LEADS = 1;
export const BYTES = 2;
export type Reading = typeof EXACT | typeof LEADS | typeof BYTES;

/**
 * `hashNorm(s, EXACT, 0, 1, Infinity)`: the whole of s, each UTF-16 code unit as it is, in a loop of
 * its own (the general one's branches cost it about half its speed on long texts).
 */
export function hashNormExact(s: string): void {
  let a = H[0];
  let b = H[1];
  let pendingSpace = false;
  let started = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c <= 32 || c === 0xa0) {
      if (started) pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      a = Math.imul(a ^ 32, 0x01000193);
      b = Math.imul(b ^ 32, 0x5bd1e995);
      pendingSpace = false;
    }
    started = true;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  H[0] = a;
  H[1] = b;
}

/**
 * Hashes s with leading/trailing whitespace removed and inner whitespace runs read as one space:
 * from index `i` in steps of `step` (1 forwards, -1 backwards), at most `limit` characters of that
 * normalised text, read as `how` says. Returns how many characters of it were hashed.
 */
export function hashNorm(s: string, how: Reading, i: number, step: 1 | -1, limit: number): number {
  let a = H[0];
  let b = H[1];
  let pendingSpace = false;
  let started = false;
  let n = 0;
  for (; i >= 0 && i < s.length && n < limit; i += step) {
    let c = s.charCodeAt(i);
    if (how === EXACT) {
      // every code unit as it is
    } else if (how === BYTES) {
      if (c >= 0x80) {
        if (c < 0xc0) continue; // a continuation byte
        c = codePointAt(s, i, c);
      }
    } else if (c >= 0xd800 && c < 0xe000) {
      if (c >= 0xdc00) continue; // the low half of a surrogate pair
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d < 0xe000) c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
    }
    if (c <= 32 || c === 0xa0) {
      if (started) pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      a = Math.imul(a ^ 32, 0x01000193);
      b = Math.imul(b ^ 32, 0x5bd1e995);
      pendingSpace = false;
      n++;
    }
    started = true;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    n++;
  }
  H[0] = a;
  H[1] = b;
  return n;
}

/** The code point of the UTF-8 sequence whose lead byte `c` (>= 0xc0) is at s[i] (valid UTF-8). */
function codePointAt(s: string, i: number, c: number): number {
  if (c < 0xe0) return ((c & 0x1f) << 6) | (s.charCodeAt(i + 1) & 0x3f);
  if (c < 0xf0)
    return ((c & 0x0f) << 12) | ((s.charCodeAt(i + 1) & 0x3f) << 6) | (s.charCodeAt(i + 2) & 0x3f);
  return (
    ((c & 0x07) << 18) |
    ((s.charCodeAt(i + 1) & 0x3f) << 12) |
    ((s.charCodeAt(i + 2) & 0x3f) << 6) |
    (s.charCodeAt(i + 3) & 0x3f)
  );
}

export function hashValue(): number {
  // 32 bits of one lane and 21 of the other (mixed): a 53-bit integer, exact as a number.
  const b = H[1] ^ (H[1] >>> 15);
  return (H[0] >>> 0) * 2097152 + ((b >>> 0) & 0x1fffff);
}

export function hashString(s: string): number {
  hashStart();
  for (let i = 0; i < s.length; i++) hashCode(s.charCodeAt(i));
  return hashValue();
}

/** The character a JSON escape `\x` stands for, by the code of `x` (0: not a short escape). */
export const ESCAPED = new Uint8Array(128);
for (const [x, c] of [
  ['"', 0x22],
  ['\\', 0x5c],
  ['/', 0x2f],
  ['b', 8],
  ['f', 12],
  ['n', 10],
  ['r', 13],
  ['t', 9],
] as const) {
  ESCAPED[x.charCodeAt(0)] = c;
}

/**
 * hashNorm reading BYTES from the raw content `s[lo, hi)` of a JSON string (UTF-8 read as Latin-1,
 * short escapes such as `\n` still written, no `\u` escapes), from its start: the same value as
 * hashNorm of the decoded string. Returns how many characters were hashed.
 */
export function hashNormRawForward(s: string, lo: number, hi: number, limit: number): number {
  let a = H[0];
  let b = H[1];
  let pendingSpace = false;
  let started = false;
  let n = 0;
  for (let i = lo; i < hi && n < limit; i++) {
    let c = s.charCodeAt(i);
    if (c === 0x5c) c = ESCAPED[s.charCodeAt(++i)];
    else if (c >= 0x80) {
      if (c < 0xc0) continue;
      c = codePointAt(s, i, c);
    }
    if (c <= 32 || c === 0xa0) {
      if (started) pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      a = Math.imul(a ^ 32, 0x01000193);
      b = Math.imul(b ^ 32, 0x5bd1e995);
      pendingSpace = false;
      n++;
    }
    started = true;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    n++;
  }
  H[0] = a;
  H[1] = b;
  return n;
}

/** hashNormRawForward from the end of the text backwards (hashNorm with step -1). */
export function hashNormRawBackward(s: string, lo: number, hi: number, limit: number): number {
  let a = H[0];
  let b = H[1];
  let pendingSpace = false;
  let started = false;
  let n = 0;
  for (let i = hi - 1; i >= lo && n < limit; i--) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      if (s.charCodeAt(i - 1) === 0x5c && i - 1 >= lo) {
        // Escaped when an odd number of backslashes precedes it.
        let k = 1;
        while (i - 1 - k >= lo && s.charCodeAt(i - 1 - k) === 0x5c) k++;
        if (k & 1) {
          c = ESCAPED[c];
          i--;
        }
      }
    } else if (c < 0xc0) continue;
    else c = codePointAt(s, i, c);
    if (c <= 32 || c === 0xa0) {
      if (started) pendingSpace = true;
      continue;
    }
    if (pendingSpace) {
      a = Math.imul(a ^ 32, 0x01000193);
      b = Math.imul(b ^ 32, 0x5bd1e995);
      pendingSpace = false;
      n++;
    }
    started = true;
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
    n++;
  }
  H[0] = a;
  H[1] = b;
  return n;
}

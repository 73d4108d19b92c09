/**
 * Writing an edited JSON value back over the text it was read from, keeping the bytes of every part
 * the edit did not change.
 *
 * `JSON.parse` forgets how a value was written: `"\u00e9"` and `"é"`, `"\/"` and `"/"`, `1.0` and
 * `1`, and it rounds 9007199254740993 and turns 1e400 into Infinity; of duplicate keys it keeps the
 * last. Serialising the parsed value again would rewrite all of that in a record where the user only
 * edited one turn. So the original text is parsed once more into a tree of spans, and the new value
 * is written by walking both: a subtree whose value equals the one the original text parses to is
 * copied from the text as it was; an object or array whose keys (or length) did not change is
 * copied with only its changed members replaced (its spacing and separators kept); anything else
 * is written anew in the line's style, its unchanged children still copied.
 */

/** A value's place in the original text (UTF-16 offsets). */
interface Span {
  start: number;
  end: number;
  /** Object members in text order (duplicate keys included), with where each key starts. */
  members?: { key: string; keyStart: number; value: Span }[];
  /** Array items. */
  items?: Span[];
}

/** Texts longer than this are written anew (the span tree would cost more than it saves). */
const MAX_KEEP_CHARS = 4 * 1024 * 1024;

const isWs = (c: number) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;

/** The span tree of a valid JSON text (the caller has checked it with JSON.parse and the depth limit). */
function spans(text: string): Span | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && isWs(text.charCodeAt(i))) i++;
  };
  const str = (): void => {
    i++; // opening quote
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x5c) i += 2;
      else if (c === 0x22) {
        i++;
        return;
      } else if (Number.isNaN(c)) throw new Error('unterminated string');
      else i++;
    }
  };
  const value = (): Span => {
    ws();
    const start = i;
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      const members: { key: string; keyStart: number; value: Span }[] = [];
      ws();
      if (text.charCodeAt(i) === 0x7d) i++;
      else {
        for (;;) {
          ws();
          const ks = i;
          str();
          const raw = text.slice(ks + 1, i - 1);
          const key = raw.includes('\\') ? (JSON.parse(text.slice(ks, i)) as string) : raw;
          ws();
          i++; // colon
          members.push({ key, keyStart: ks, value: value() });
          ws();
          const sep = text.charCodeAt(i++);
          if (sep === 0x7d) break;
          if (sep !== 0x2c) throw new Error('bad object');
        }
      }
      return { start, end: i, members };
    }
    if (c === 0x5b) {
      i++;
      const items: Span[] = [];
      ws();
      if (text.charCodeAt(i) === 0x5d) i++;
      else {
        for (;;) {
          items.push(value());
          ws();
          const sep = text.charCodeAt(i++);
          if (sep === 0x5d) break;
          if (sep !== 0x2c) throw new Error('bad array');
        }
      }
      return { start, end: i, items };
    }
    if (c === 0x22) str();
    else {
      while (i < text.length) {
        const d = text.charCodeAt(i);
        if (isWs(d) || d === 0x2c || d === 0x5d || d === 0x7d) break;
        i++;
      }
    }
    if (i === start) throw new Error('no value');
    return { start, end: i };
  };
  try {
    const root = value();
    ws();
    return i === text.length ? root : undefined;
  } catch {
    return undefined;
  }
}

/** Deep equality of two JSON values, key order included. */
function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let k = 0; k < a.length; k++) if (!same(a[k], b[k])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  for (let k = 0; k < ka.length; k++) {
    const key = ka[k];
    if (key === undefined || key !== kb[k]) return false;
    if (!same((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

const writable = (v: unknown) => v !== undefined && typeof v !== 'function';

/** Keys in the order JSON.parse gives them (first occurrence), each with its last member (the value kept). */
function parsedKeys(members: { key: string; keyStart: number; value: Span }[]): Map<string, number> {
  const last = new Map<string, number>();
  members.forEach((m, k) => last.set(m.key, k));
  const order = new Map<string, number>();
  for (const m of members) if (!order.has(m.key)) order.set(m.key, last.get(m.key) as number);
  return order;
}

export interface FreshWriter {
  /** Writes a key (a quoted string in the line's style). */
  key(k: string): string;
  /** Writes a value that has no counterpart in the original text. */
  value(v: unknown): string;
  colon: string;
  comma: string;
}

/**
 * The JSON text of `value`, written over `source` (the valid JSON text it was read from, edited
 * since): every part whose value is unchanged keeps its original bytes. Returns undefined when
 * `source` is too long or not a single JSON value, so the caller writes the value anew.
 */
export function writeOver(source: string, value: unknown, fresh: FreshWriter): string | undefined {
  if (source.length > MAX_KEEP_CHARS) return undefined;
  const root = spans(source);
  if (!root) return undefined;
  const parsed = (s: Span): unknown => JSON.parse(source.slice(s.start, s.end));
  const out: string[] = [];
  const write = (v: unknown, s: Span | undefined): void => {
    if (s === undefined) {
      out.push(fresh.value(v));
      return;
    }
    if (same(v, parsed(s))) {
      out.push(source.slice(s.start, s.end));
      return;
    }
    if (s.members && typeof v === 'object' && v !== null && !Array.isArray(v)) {
      const obj = v as Record<string, unknown>;
      const keys = Object.keys(obj).filter((k) => writable(obj[k]));
      const order = parsedKeys(s.members);
      const sameKeys = keys.length === order.size && [...order.keys()].every((k, n) => keys[n] === k);
      if (sameKeys) {
        // The object as written, with only the changed kept members replaced.
        let at = s.start;
        s.members.forEach((m, k) => {
          if (order.get(m.key) !== k) return; // a shadowed duplicate: its bytes stay
          out.push(source.slice(at, m.value.start));
          write(obj[m.key], m.value);
          at = m.value.end;
        });
        out.push(source.slice(at, s.end));
        return;
      }
      out.push('{');
      keys.forEach((k, n) => {
        if (n > 0) out.push(fresh.comma);
        out.push(fresh.key(k), fresh.colon);
        const idx = order.get(k);
        write(obj[k], idx === undefined ? undefined : s.members?.[idx]?.value);
      });
      out.push('}');
      return;
    }
    if (s.items && Array.isArray(v)) {
      if (v.length === s.items.length) {
        let at = s.start;
        s.items.forEach((item, k) => {
          out.push(source.slice(at, item.start));
          write(writable(v[k]) ? v[k] : null, item);
          at = item.end;
        });
        out.push(source.slice(at, s.end));
        return;
      }
      // Items inserted or removed: each new item takes the bytes of the next original item that is
      // equal to it.
      const items = s.items;
      out.push('[');
      let next = 0;
      (v as unknown[]).forEach((raw, k) => {
        if (k > 0) out.push(fresh.comma);
        const item = writable(raw) ? raw : null;
        let match: Span | undefined;
        for (let j = next; j < items.length; j++) {
          const cand = items[j];
          if (same(item, parsed(cand))) {
            match = cand;
            next = j + 1;
            break;
          }
        }
        write(item, match);
      });
      out.push(']');
      return;
    }
    out.push(fresh.value(v));
  };
  write(value, root);
  return out.join('');
}

/** A key that occurs more than once in one object of a JSON text. */
export interface DuplicateKey {
  key: string;
  /** Offset (UTF-16) of the repeated key's opening quote, and of the key's first occurrence. */
  at: number;
  first: number;
}

/**
 * The repeated keys of every object of a valid JSON text (loaders keep the last value silently).
 * Empty for texts over 4 MiB or that do not scan (the caller has parsed it already).
 */
export function duplicateKeys(text: string): DuplicateKey[] {
  if (text.length > MAX_KEEP_CHARS) return [];
  const root = spans(text);
  const out: DuplicateKey[] = [];
  const walk = (s: Span): void => {
    if (s.members) {
      const seen = new Map<string, number>();
      for (const m of s.members) {
        const first = seen.get(m.key);
        if (first === undefined) seen.set(m.key, m.keyStart);
        else out.push({ key: m.key, at: m.keyStart, first });
        walk(m.value);
      }
    } else if (s.items) for (const it of s.items) walk(it);
  };
  if (root) walk(root);
  return out;
}

/** A number token of a JSON text that a JavaScript number (a double) cannot hold exactly. */
export interface InexactNumber {
  token: string;
  /** Offset (UTF-16) of the token. */
  at: number;
  /** What it becomes once parsed and written again (`null` for one out of range). */
  written: string;
}

/**
 * The number tokens of a valid JSON text that parsing changes: integers beyond 2^53 that round to
 * another integer, and numbers out of a double's range (Infinity, which JSON writes as null).
 * Cheap on ordinary records: only texts with 16 digits in a row or a 3-digit exponent are walked.
 */
export function inexactNumbers(text: string): InexactNumber[] {
  if (!/\d{16}|[eE][+-]?\d{3}/.test(text) || text.length > MAX_KEEP_CHARS) return [];
  const root = spans(text);
  const out: InexactNumber[] = [];
  const walk = (s: Span): void => {
    if (s.members) for (const m of s.members) walk(m.value);
    else if (s.items) for (const it of s.items) walk(it);
    else {
      const token = text.slice(s.start, s.end);
      const c = token.charCodeAt(0);
      if (c !== 0x2d && (c < 0x30 || c > 0x39)) return;
      const n = Number(token);
      if (!Number.isFinite(n)) out.push({ token, at: s.start, written: 'null' });
      else if (/^-?\d+$/.test(token) && BigInt(token) !== BigInt(n))
        out.push({ token, at: s.start, written: String(n) });
    }
  };
  if (root) walk(root);
  return out;
}

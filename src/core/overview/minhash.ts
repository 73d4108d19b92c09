/**
 * MinHash signatures and LSH clustering for near-duplicate detection over any number of records.
 *
 * A text becomes a set of word 3-shingles (lower-cased letters and digits in any script; texts of
 * fewer than three words are one shingle), each hashed to 32 bits. One permutation hashing (Li,
 * Owen and Zhang, 2012): the top 5 bits of a shingle's hash pick one of SIG_HASHES bins, and each
 * bin keeps the least of the other 27 bits, one hash per shingle instead of SIG_HASHES; empty bins
 * are filled by rotation (Shrivastava and Li, 2014). Only 8 bits of each bin are kept (b-bit
 * MinHash), so a signature is SIG_HASHES bytes. Two signatures agree at a position with probability
 * about J + (1 - J) / 256 for Jaccard similarity J, which `estimateJaccard` inverts.
 *
 * LSH: BANDS bands of ROWS bytes; two records whose bytes agree on a whole band are candidates, and
 * candidates whose estimated similarity reaches the threshold are joined (union-find). A pair of
 * similarity J is a candidate with probability 1 - (1 - J^ROWS)^BANDS: 0.985 at 0.8, 0.89 at 0.7.
 */

export const SIG_HASHES = 32;
export const ROWS = 4;
export const BANDS = SIG_HASHES / ROWS;

function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function hashString(s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const WORD_CHAR = /^[\p{L}\p{N}]$/u;
const NON_ASCII = /[\u0080-\uffff]/;
/** For each ASCII code: the letter lower-cased or the digit, 0 for any other character. */
const ASCII_WORD = new Uint8Array(128).map((_, c) =>
  (c >= 97 && c <= 122) || (c >= 48 && c <= 57) ? c : c >= 65 && c <= 90 ? c + 32 : 0,
);
const A = 0x9e3779b1;
const B = 0x85ebca6b;

/**
 * The shingles of a run of words (the words of one or more texts, as if they were joined by a
 * line break): a 3-shingle's hash combines its three word hashes, so no shingle string is built; a
 * run of one or two words is one shingle. `emit` gets each shingle's hash (one seen twice, twice).
 */
abstract class Shingles {
  private w0 = 0;
  private w1 = 0;
  k = 0;
  protected abstract emit(h: number): void;
  reset(): void {
    this.w0 = this.w1 = this.k = 0;
  }
  word(w: number): void {
    if (this.k >= 2) this.emit(fmix32((Math.imul(this.w0, A) + Math.imul(this.w1, B) + w) >>> 0));
    this.w0 = this.w1;
    this.w1 = w;
    this.k++;
  }
  /** Ends the run: emits the one shingle of a run of one or two words; returns the words. */
  finish(): number {
    if (this.k === 1) this.emit(fmix32(this.w1));
    else if (this.k === 2) this.emit(fmix32((Math.imul(this.w0, A) + this.w1) >>> 0));
    return this.k;
  }
}

/**
 * Passes the hash of each word of `text` in order (lower-cased letters and digits of any script)
 * to `a`, and to `b` too when given; returns how many words it has.
 */
function forEachWord(text: string, a: Shingles, b?: Shingles): number {
  // ASCII text is lower-cased as it is read (no copy); other text as a whole, as before.
  const t = NON_ASCII.test(text) ? text.toLowerCase() : text;
  let k = 0;
  // As int32 (the hex constant is beyond it), so that the loop keeps h in a register.
  let h = 0x811c9dc5 | 0;
  let inWord = false;
  const n = t.length;
  for (let i = 0; i <= n; i++) {
    let c = i < n ? t.charCodeAt(i) : 32;
    let isWord: boolean;
    if (c < 128) {
      // Letters (lower-cased) and digits by a table.
      c = ASCII_WORD[c];
      isWord = c !== 0;
    } else
      // Letters and digits of any script (a scan by hand: the Unicode regex is several times slower).
      isWord =
        c >= 0xd800 && c <= 0xdbff && i + 1 < n
          ? WORD_CHAR.test(t.slice(i, i + 2))
          : c < 0xdc00 || c > 0xdfff
            ? WORD_CHAR.test(t[i])
            : false;
    if (isWord) {
      if (!inWord) {
        inWord = true;
        h = 0x811c9dc5 | 0;
      }
      h ^= c;
      h = Math.imul(h, 0x01000193);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < n) {
        h ^= t.charCodeAt(++i);
        h = Math.imul(h, 0x01000193);
      }
    } else if (inWord) {
      inWord = false;
      a.word(h);
      b?.word(h);
      k++;
    }
  }
  return k;
}

/** The shingles of a text collected in a set. */
class ShingleSet extends Shingles {
  readonly out = new Set<number>();
  protected emit(h: number): void {
    this.out.add(h);
  }
}

/** The distinct word 3-shingles of `text`, as 32-bit hashes. */
export function shingles(text: string): Set<number> {
  const run = new ShingleSet();
  forEachWord(text, run);
  run.finish();
  return run.out;
}

/** Exact Jaccard similarity of the shingle sets of two texts (for tests and checks). */
export function exactJaccard(a: string, b: string): number {
  const x = shingles(a);
  const y = shingles(b);
  if (x.size === 0 && y.size === 0) return 1;
  let both = 0;
  for (const h of x) if (y.has(h)) both++;
  return both / (x.size + y.size - both);
}

const EMPTY = 0xffffffff;

/**
 * One signature being made. One permutation hashing: the top 5 bits of a shingle's hash pick its
 * bin, the rest compete.
 */
class Signer extends Shingles {
  readonly mins = new Uint32Array(SIG_HASHES);
  protected emit(h: number): void {
    const bin = h >>> 27;
    const v = h & 0x7ffffff;
    if (v < this.mins[bin]) this.mins[bin] = v;
  }
  start(): void {
    this.mins.fill(EMPTY);
    this.reset();
  }
  /**
   * Writes the signature into out[at, at + SIG_HASHES); false (nothing written) when no word was
   * seen. An empty bin takes the value of the next non-empty one to its right (circularly) mixed
   * with its distance (densification by rotation), so that two texts agree on it with the
   * probability they agree on that bin.
   */
  override finish(out?: Uint8Array, at = 0): number {
    const words = super.finish();
    if (words === 0 || !out) return words;
    const mins = this.mins;
    for (let i = 0; i < SIG_HASHES; i++) {
      let k = 0;
      while (mins[(i + k) % SIG_HASHES] === EMPTY) k++;
      out[at + i] = fmix32((mins[(i + k) % SIG_HASHES] ^ Math.imul(k, A)) >>> 0) & 0xff;
    }
    return words;
  }
}

const one = new Signer();

/**
 * Writes the signature of `text` into out[at, at + SIG_HASHES); returns false (and writes
 * nothing) for a text without a word, which has no signature.
 */
export function signInto(text: string, out: Uint8Array, at: number): boolean {
  one.start();
  forEachWord(text, one);
  return one.finish(out, at) > 0;
}

const users = new Signer();
const all = new Signer();

/**
 * The signatures of a record's user texts and of all its texts, each as `signInto` of those texts
 * joined by line breaks, from one scan of each text. Returns bit 0 set when the user texts have a
 * signature, bit 1 when all texts have one.
 */
export function signTexts(
  texts: readonly string[],
  isUser: readonly boolean[],
  userOut: Uint8Array,
  allOut: Uint8Array,
  at: number,
): number {
  users.start();
  all.start();
  for (let i = 0; i < texts.length; i++) forEachWord(texts[i], all, isUser[i] ? users : undefined);
  return (users.finish(userOut, at) > 0 ? 1 : 0) | (all.finish(allOut, at) > 0 ? 2 : 0);
}

export function signature(text: string): Uint8Array | undefined {
  const out = new Uint8Array(SIG_HASHES);
  return signInto(text, out, 0) ? out : undefined;
}

/** Estimated Jaccard similarity of records i and j of `sigs` (SIG_HASHES bytes each). */
export function estimateJaccard(sigs: Uint8Array, i: number, j: number): number {
  let same = 0;
  const a = i * SIG_HASHES;
  const b = j * SIG_HASHES;
  for (let k = 0; k < SIG_HASHES; k++) if (sigs[a + k] === sigs[b + k]) same++;
  const p = same / SIG_HASHES;
  return Math.max(0, (p - 1 / 256) / (1 - 1 / 256));
}

/**
 * Orders `idx[0..n)` (indices into `keys`) by their keys, stably: an LSD radix sort on 32-bit keys
 * with `tmp` (n entries) beside it; the result is in `idx` (four passes). A second call with other
 * keys orders by those first and, among equal ones, as the first call did. Buffers are given so
 * that the sorts of a large file's overview share them rather than leave two behind each.
 */
export function radixOrder(keys: Uint32Array, n: number, idx: Uint32Array, tmp: Uint32Array): void {
  const count = new Uint32Array(256);
  let from = idx;
  let to = tmp;
  for (let shift = 0; shift < 32; shift += 8) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(keys[from[i]] >>> shift) & 0xff]++;
    let sum = 0;
    for (let b = 0; b < 256; b++) {
      const c = count[b];
      count[b] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const v = from[i];
      to[count[(keys[v] >>> shift) & 0xff]++] = v;
    }
    [from, to] = [to, from];
  }
}

/** Buffers of n entries that the LSH passes over one file's records share (see lshClusters). */
export class LshScratch {
  readonly keys: Uint32Array;
  readonly idx: Uint32Array;
  readonly tmp: Uint32Array;
  readonly parent: Int32Array;
  readonly size: Int32Array;
  constructor(readonly n: number) {
    this.keys = new Uint32Array(n);
    this.idx = new Uint32Array(n);
    this.tmp = new Uint32Array(n);
    this.parent = new Int32Array(n);
    this.size = new Int32Array(n);
  }
}

function find(parent: Int32Array, x: number): number {
  while (parent[x] !== x) {
    parent[x] = parent[parent[x]];
    x = parent[x];
  }
  return x;
}

function union(parent: Int32Array, a: number, b: number): void {
  const ra = find(parent, a);
  const rb = find(parent, b);
  if (ra === rb) return;
  // The smaller index becomes the root: a cluster is named by its first record.
  if (ra < rb) parent[rb] = ra;
  else parent[ra] = rb;
}

/**
 * Clusters of near-duplicates among `n` records: `sigs` holds their signatures, `has[i]` says
 * whether record i has one. Returns the clusters of two or more records, each in record order,
 * largest first (ties: first record first).
 */
export function lshClusters(
  sigs: Uint8Array,
  has: Uint8Array,
  n: number,
  threshold: number,
  scratch = new LshScratch(n),
): number[][] {
  if (scratch.n < n) throw new Error(`LSH buffers of ${scratch.n} entries for ${n} records`);
  const { parent, keys, idx: order, tmp } = scratch;
  for (let i = 0; i < n; i++) parent[i] = i;
  for (let band = 0; band < BANDS; band++) {
    const off = band * ROWS;
    for (let i = 0; i < n; i++) {
      const at = i * SIG_HASHES + off;
      keys[i] = has[i]
        ? (sigs[at] | (sigs[at + 1] << 8) | (sigs[at + 2] << 16) | (sigs[at + 3] << 24)) >>> 0
        : 0;
    }
    for (let i = 0; i < n; i++) order[i] = i;
    radixOrder(keys, n, order, tmp);
    let runStart = 0;
    for (let k = 1; k <= n; k++) {
      if (k < n && keys[order[k]] === keys[order[runStart]]) continue;
      // A run of equal band keys: candidates. Each is compared with the run's first record and
      // with the one before it (enough to join chains of close records without all pairs).
      const head = order[runStart];
      if (has[head])
        for (let m = runStart + 1; m < k; m++) {
          const r = order[m];
          if (!has[r]) continue;
          if (estimateJaccard(sigs, head, r) >= threshold) union(parent, head, r);
          else {
            const prev = order[m - 1];
            if (m - 1 > runStart && estimateJaccard(sigs, prev, r) >= threshold) union(parent, prev, r);
          }
        }
      runStart = k;
    }
  }
  const size = scratch.size.fill(0, 0, n);
  for (let i = 0; i < n; i++) if (has[i]) size[find(parent, i)]++;
  const groups = new Map<number, number[]>();
  for (let i = 0; i < n; i++) {
    if (!has[i]) continue;
    const r = parent[i] === i ? i : find(parent, i);
    if (size[r] < 2) continue;
    let g = groups.get(r);
    if (!g) groups.set(r, (g = []));
    g.push(i);
  }
  const out = [...groups.values()];
  out.sort((a, b) => b.length - a.length || a[0] - b[0]);
  return out;
}

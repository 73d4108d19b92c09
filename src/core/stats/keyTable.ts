/**
 * Sets and maps of 128-bit keys in typed arrays (open addressing, at most 3/4 full): what stats
 * finds repeated ids and samples by, with no JavaScript string or Map entry per record. A key is
 * four unsigned 32-bit words; a sample's digest (`keyDigest`, 16 latin1 characters) is its own key,
 * word for word, and an id's key is two 32-bit hashes of its UTF-16 code units and its length.
 */
export class KeyTable {
  private keys: Uint32Array;
  /** Each slot's value plus one; 0 for an empty slot. */
  private vals: Uint32Array;
  private mask: number;
  size = 0;

  constructor(capacity = 1 << 15) {
    let n = 16;
    while (n * 3 < capacity * 4) n *= 2;
    this.keys = new Uint32Array(4 * n);
    this.vals = new Uint32Array(n);
    this.mask = n - 1;
  }

  /**
   * The value of key (a, b, c, d) when it is there; else stores `value` (below 2^32 - 1) under it
   * and returns -1.
   */
  addIfAbsent(a: number, b: number, c: number, d: number, value: number): number {
    const { keys, vals } = this;
    let i = slotOf(a, b, c, d) & this.mask;
    for (;;) {
      const v = vals[i];
      if (v === 0) break;
      const k = 4 * i;
      if (
        keys[k] === a >>> 0 &&
        keys[k + 1] === b >>> 0 &&
        keys[k + 2] === c >>> 0 &&
        keys[k + 3] === d >>> 0
      )
        return v - 1;
      i = (i + 1) & this.mask;
    }
    if ((this.size + 1) * 4 > vals.length * 3) {
      this.grow();
      return this.addIfAbsent(a, b, c, d, value);
    }
    const k = 4 * i;
    keys[k] = a;
    keys[k + 1] = b;
    keys[k + 2] = c;
    keys[k + 3] = d;
    vals[i] = value + 1;
    this.size++;
    return -1;
  }

  private grow(): void {
    const { keys, vals } = this;
    const n = vals.length * 2;
    const nk = new Uint32Array(4 * n);
    const nv = new Uint32Array(n);
    const mask = n - 1;
    // Every key is distinct: each goes to the first empty slot from its home, with no compare.
    for (let i = 0; i < vals.length; i++) {
      if (vals[i] === 0) continue;
      const k = 4 * i;
      let j = slotOf(keys[k], keys[k + 1], keys[k + 2], keys[k + 3]) & mask;
      while (nv[j] !== 0) j = (j + 1) & mask;
      const t = 4 * j;
      nk[t] = keys[k];
      nk[t + 1] = keys[k + 1];
      nk[t + 2] = keys[k + 2];
      nk[t + 3] = keys[k + 3];
      nv[j] = vals[i];
    }
    this.keys = nk;
    this.vals = nv;
    this.mask = mask;
  }
}

/** The home slot hash of a key (before masking). */
function slotOf(a: number, b: number, c: number, d: number): number {
  return Math.imul(a ^ Math.imul(b, 0x85ebca6b) ^ Math.imul(c ^ d, 0xc2b2ae35), 0x9e3779b1) >>> 0;
}

/** The second hash of the last `hashUnits` call. */
let second = 0;

/**
 * Two 32-bit hashes of the UTF-16 code units of `s` in one pass (MurmurHash3's mixing with two
 * seeds): the first is returned, the second left in `second`.
 */
function hashUnits(s: string): number {
  let h = 0x9747b28c;
  let g = 0x3c6ef372;
  for (let i = 0; i < s.length; i++) {
    let k = Math.imul(s.charCodeAt(i), 0xcc9e2d51);
    k = Math.imul((k << 15) | (k >>> 17), 0x1b873593);
    h ^= k;
    h = Math.imul((h << 13) | (h >>> 19), 5) + 0xe6546b64;
    g ^= k;
    g = Math.imul((g << 17) | (g >>> 15), 9) + 0x52dce729;
  }
  second = fmix32(g ^ s.length);
  return fmix32(h ^ s.length);
}

function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** Ids to the line they were first seen on, by two 32-bit hashes and the length of each id. */
export class IdTable {
  private readonly table = new KeyTable();
  /** The first line of `id`, or -1 after recording it on `line`. */
  firstLine(id: string, line: number): number {
    const h = hashUnits(id);
    return this.table.addIfAbsent(h, second, id.length, 0x1d, line);
  }
}

/**
 * Sample digests seen: a kernel digest (16 latin1 characters) by its 128 bits in a KeyTable, any
 * other digest (SHA-1's, marked) in a Set.
 */
export class DigestSet {
  private readonly table = new KeyTable();
  private readonly others = new Set<string>();
  /** Whether `h` was seen before; records it. */
  seen(h: string): boolean {
    if (h.length !== 16) {
      if (this.others.has(h)) return true;
      this.others.add(h);
      return false;
    }
    return this.table.addIfAbsent(word(h, 0), word(h, 4), word(h, 8), word(h, 12), 0) >= 0;
  }
}

/** Characters i to i + 3 of a latin1 string as a 32-bit word (little-endian). */
function word(h: string, i: number): number {
  return (
    h.charCodeAt(i) | (h.charCodeAt(i + 1) << 8) | (h.charCodeAt(i + 2) << 16) | (h.charCodeAt(i + 3) << 24)
  );
}

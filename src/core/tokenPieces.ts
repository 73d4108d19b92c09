/**
 * A cache of the token counts of pieces of text, looked up by where a piece is in its text, so that
 * no string is made for a piece seen before: open addressing on a 32-bit FNV-1a hash of the piece's
 * UTF-16 code units, and each hit confirmed by comparing the piece with the text stored for it
 * (so a hash collision never gives a wrong count). Emptied when it holds `max` pieces.
 */
export class PieceCounts {
  private keys: (string | undefined)[] = [];
  private hashes = new Int32Array(0);
  private counts = new Int32Array(0);
  private mask = 0;
  private size = 0;

  constructor(
    private readonly max: number,
    private readonly count: (piece: string) => number,
  ) {
    this.alloc(1 << 12);
  }

  private alloc(capacity: number): void {
    this.keys = new Array<string | undefined>(capacity).fill(undefined);
    this.hashes = new Int32Array(capacity);
    this.counts = new Int32Array(capacity);
    this.mask = capacity - 1;
    this.size = 0;
  }

  /** The count of text[from, to). */
  get(text: string, from: number, to: number): number {
    // As int32 (the FNV offset basis is beyond it), so that the loop keeps h in a register.
    let h = 0x811c9dc5 | 0;
    for (let i = from; i < to; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    const len = to - from;
    const keys = this.keys;
    let slot = h & this.mask;
    for (let k = keys[slot]; k !== undefined; k = keys[slot]) {
      if (this.hashes[slot] === h && k.length === len && text.startsWith(k, from)) return this.counts[slot];
      slot = (slot + 1) & this.mask;
    }
    const piece = ownCopy(text, from, to);
    const n = this.count(piece);
    if (this.size >= this.max) {
      this.alloc(this.keys.length);
      slot = h & this.mask;
    } else if (2 * (this.size + 1) > this.keys.length) {
      this.grow();
      slot = h & this.mask;
      while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
    }
    this.keys[slot] = piece;
    this.hashes[slot] = h;
    this.counts[slot] = n;
    this.size++;
    return n;
  }

  /** Twice the slots, the pieces kept. */
  private grow(): void {
    const { keys, hashes, counts } = this;
    this.alloc(keys.length * 2);
    for (let s = 0; s < keys.length; s++) {
      const k = keys[s];
      if (k === undefined) continue;
      let slot = hashes[s] & this.mask;
      while (this.keys[slot] !== undefined) slot = (slot + 1) & this.mask;
      this.keys[slot] = k;
      this.hashes[slot] = hashes[s];
      this.counts[slot] = counts[s];
      this.size++;
    }
  }
}

/**
 * text[from, to) as a string of its own. V8 makes a slice of 13 or more characters a view of the
 * whole text, so a kept piece (and every pre-token the library's merge cache keeps from it) would
 * keep each record's text alive for as long as the cache lives: hundreds of MB on a large file.
 */
function ownCopy(text: string, from: number, to: number): string {
  if (to - from < 13) return text.slice(from, to);
  return Buffer.from(text.slice(from, to), 'utf16le').toString('utf16le');
}

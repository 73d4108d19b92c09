/**
 * The edit overlay: the document as a list of pieces over the lines of one or more file versions.
 *
 * A piece is either a run of original lines (by index) of some base `B` (the current file, or an
 * earlier version kept readable for undo across a save), or an array of new line texts. After the
 * explicit pieces comes an implicit tail: lines `tail .. count-1` of the current base. The tail lets
 * the document grow while the index is still being built, and keeps an unedited document at zero
 * pieces.
 */

export type Piece<B> =
  { kind: 'original'; base: B; start: number; count: number } | { kind: 'text'; texts: readonly string[] };

export function pieceLength<B>(p: Piece<B>): number {
  return p.kind === 'original' ? p.count : p.texts.length;
}

/** Where a document line comes from. */
export type LinePos<B> = { kind: 'original'; base: B; line: number } | { kind: 'text'; text: string };

export class PieceTable<B> {
  private pieces: Piece<B>[] = [];
  private tail = 0;
  /** ends[i] = document position just after pieces[i]; rebuilt lazily. */
  private ends: number[] = [];
  private endsValid = true;

  /** `current()` is the base of the implicit tail and the number of lines it has (so far). */
  constructor(private readonly current: () => { base: B; count: number }) {}

  private originalCount(): number {
    return this.current().count;
  }

  get pieceCount(): number {
    return this.pieces.length;
  }

  private explicitLength(): number {
    this.ensureEnds();
    return this.ends.length ? this.ends[this.ends.length - 1] : 0;
  }

  private ensureEnds(): void {
    if (this.endsValid) return;
    const ends = new Array<number>(this.pieces.length);
    let acc = 0;
    for (let i = 0; i < this.pieces.length; i++) {
      acc += pieceLength(this.pieces[i]);
      ends[i] = acc;
    }
    this.ends = ends;
    this.endsValid = true;
  }

  get length(): number {
    return this.explicitLength() + Math.max(0, this.originalCount() - this.tail);
  }

  /** True when the document is exactly the original lines (no explicit pieces left). */
  get isIdentity(): boolean {
    return this.pieces.length === 0 && this.tail === 0;
  }

  reset(): void {
    this.pieces = [];
    this.tail = 0;
    this.ends = [];
    this.endsValid = true;
  }

  /** Replaces the whole document (used by restore). The tail is empty afterwards. */
  setAll(pieces: Piece<B>[]): void {
    this.pieces = pieces.filter((p) => pieceLength(p) > 0);
    this.tail = Number.MAX_SAFE_INTEGER;
    this.endsValid = false;
  }

  /** The document as a sequence of pieces, tail included. */
  *runs(): Generator<Piece<B>> {
    yield* this.pieces;
    const { base, count } = this.current();
    if (this.tail < count) yield { kind: 'original', base, start: this.tail, count: count - this.tail };
  }

  /** Whether some explicit piece refers to lines of `base` (the tail always refers to the current base). */
  references(base: B): boolean {
    return this.pieces.some((p) => p.kind === 'original' && p.base === base);
  }

  source(pos: number): LinePos<B> {
    const explicit = this.explicitLength();
    if (pos >= explicit)
      return { kind: 'original', base: this.current().base, line: this.tail + (pos - explicit) };
    const lo = this.pieceAt(pos);
    const p = this.pieces[lo];
    const offset = pos - (lo === 0 ? 0 : this.ends[lo - 1]);
    return p.kind === 'original'
      ? { kind: 'original', base: p.base, line: p.start + offset }
      : { kind: 'text', text: p.texts[offset] };
  }

  /** Index of the explicit piece holding position `pos` (the first whose end > pos); needs `pos` < explicitLength(). */
  private pieceAt(pos: number): number {
    let lo = 0;
    let hi = this.ends.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid] > pos) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** Makes a piece boundary at document position `pos`; returns the index of the piece starting there. */
  private splitAt(pos: number): number {
    const explicit = this.explicitLength();
    if (pos >= explicit) {
      const take = pos - explicit;
      if (take > 0) {
        this.pieces.push({ kind: 'original', base: this.current().base, start: this.tail, count: take });
        this.tail += take;
        this.endsValid = false;
      }
      return this.pieces.length;
    }
    const lo = this.pieceAt(pos);
    const startOf = lo === 0 ? 0 : this.ends[lo - 1];
    const offset = pos - startOf;
    if (offset === 0) return lo;
    const p = this.pieces[lo];
    let a: Piece<B>;
    let b: Piece<B>;
    if (p.kind === 'original') {
      a = { kind: 'original', base: p.base, start: p.start, count: offset };
      b = { kind: 'original', base: p.base, start: p.start + offset, count: p.count - offset };
    } else {
      a = { kind: 'text', texts: p.texts.slice(0, offset) };
      b = { kind: 'text', texts: p.texts.slice(offset) };
    }
    this.pieces.splice(lo, 1, a, b);
    this.endsValid = false;
    return lo + 1;
  }

  /** Removes `count` lines at `pos` and returns them as pieces. */
  remove(pos: number, count: number): Piece<B>[] {
    if (count === 0) return [];
    const a = this.splitAt(pos);
    const b = this.splitAt(pos + count);
    const removed = this.pieces.splice(a, b - a);
    this.endsValid = false;
    this.mergeAround(a);
    return removed;
  }

  /** Inserts pieces before document position `pos`. */
  insert(pos: number, pieces: Piece<B>[]): void {
    const add = pieces.filter((p) => pieceLength(p) > 0);
    if (add.length === 0) return;
    const a = this.splitAt(pos);
    this.pieces.splice(a, 0, ...add);
    this.endsValid = false;
    this.mergeAround(a + add.length);
    this.mergeAround(a);
  }

  /** Merges pieces[i-1] and pieces[i] when they continue each other; folds the last piece into the tail. */
  private mergeAround(i: number): void {
    if (i > 0 && i < this.pieces.length) {
      const x = this.pieces[i - 1];
      const y = this.pieces[i];
      if (
        x.kind === 'original' &&
        y.kind === 'original' &&
        x.base === y.base &&
        x.start + x.count === y.start
      ) {
        this.pieces.splice(i - 1, 2, {
          kind: 'original',
          base: x.base,
          start: x.start,
          count: x.count + y.count,
        });
        this.endsValid = false;
      } else if (x.kind === 'text' && y.kind === 'text' && x.texts.length + y.texts.length <= 4096) {
        this.pieces.splice(i - 1, 2, { kind: 'text', texts: [...x.texts, ...y.texts] });
        this.endsValid = false;
      }
    }
    // An original run that ends right where the tail starts becomes part of the tail again.
    const last = this.pieces[this.pieces.length - 1];
    if (
      last &&
      last.kind === 'original' &&
      last.base === this.current().base &&
      last.start + last.count === this.tail
    ) {
      this.pieces.pop();
      this.tail = last.start;
      this.endsValid = false;
    }
  }
}

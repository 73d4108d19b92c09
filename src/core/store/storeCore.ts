/**
 * What the two stores share (`DatasetStore` for JSON Lines and JSON arrays, `ParquetStore` for
 * Parquet): the edit overlay over a base version, the version counter and dirty state, the checks
 * of an edit's arguments, the guard that keeps saves from running twice or under an edit, and the
 * earlier versions kept readable for undo across a save. Each store says what its base is (a file
 * with a line index, or a Parquet file's rows), how records are counted and named, how a save is
 * written and how the file on disk compares with the base.
 */
import { fingerprintFile } from './fingerprint';
import { applyToTable, isInt } from './overlayEdit';
import { PieceTable, type Piece } from './pieces';
import { removeStaleTempFiles } from './save';
import type { DiskState, Fingerprint, SaveAsOptions, SaveOptions, Segment, StoreEdit } from './types';

/** An edit's segment that brings back records of a version by reference. */
type OriginalSegment = Extract<Segment, { kind: 'original' }>;

/** How a store names its records in messages: JSON records are lines, Parquet records are rows. */
export interface RecordNoun {
  one: 'line' | 'row';
  many: 'lines' | 'rows';
}

export abstract class StoreCore<B extends { readonly id: string }, C extends B = B> {
  /** The version the store reads from and saves over. */
  protected base: C;
  /** Earlier versions (and records restored from backups) that edits may still refer to, by id. */
  protected readonly retired = new Map<string, B>();
  protected readonly table: PieceTable<B>;
  protected _path: string;
  protected _version = 0;
  protected savedVersion = 0;
  protected closed = false;
  protected saving = false;
  /** Resolves with the names of stale temporary files of killed saves removed when the file was opened. */
  readonly staleTempFilesRemoved: Promise<string[]>;

  protected constructor(
    path: string,
    base: C,
    protected readonly maxRetired: number,
    private readonly noun: RecordNoun,
  ) {
    this._path = path;
    this.base = base;
    this.staleTempFilesRemoved = removeStaleTempFiles(path);
    this.table = new PieceTable<B>(() => ({ base: this.base, count: this.recordsOf(this.base) }));
  }

  /** How many records version `b` has. */
  protected abstract recordsOf(b: B): number;
  /** Writes the document to `target` (the save guard is held); see `save` and `saveAs`. */
  protected abstract saveUnguarded(target: string, opts: SaveOptions, rebase: boolean): Promise<void>;
  /** Marks a version replaced by a save (before it is kept for undo or closed). */
  protected abstract markRetired(b: B): void;
  /** Releases what version `b` holds open. */
  protected abstract closeBase(b: B): Promise<void>;
  /** How the file at the path compares with the version the store is based on. */
  abstract diskState(): Promise<DiskState>;

  get path(): string {
    return this._path;
  }
  /** Records known so far, through the edit overlay. */
  get lineCount(): number {
    return this.table.length;
  }
  /** Identifies the version that original-record references in edits refer to. */
  get baseId(): string {
    return this.base.id;
  }
  /** Ids of the earlier versions (and backup-restored records) that are kept readable. */
  get retiredBaseIds(): string[] {
    return [...this.retired.keys()];
  }
  get isDirty(): boolean {
    return this._version !== this.savedVersion;
  }
  /** Increases with every applied edit, reload and restore. */
  get version(): number {
    return this._version;
  }
  markSaved(): void {
    this.savedVersion = this._version;
  }

  protected checkOpen(): void {
    if (this.closed) throw new Error(`The store for "${this._path}" is closed.`);
  }

  protected checkLine(i: number): void {
    if (!isInt(i) || i < 0 || i >= this.lineCount) {
      const { one, many } = this.noun;
      throw new RangeError(
        `${one[0].toUpperCase()}${one.slice(1)} ${String(i)} does not exist (the document has ${this.lineCount} ${many}).`,
      );
    }
  }

  // ---- edits ---------------------------------------------------------------------------------

  /** Checks one text of an edit (a store whose container refuses some texts says so here). */
  protected checkText(_text: string, _what: string, _k: number): void {}

  protected checkTexts(texts: unknown, what: string): string[] {
    if (!Array.isArray(texts)) throw new TypeError(`${what}: "texts" must be an array of strings.`);
    texts.forEach((t, k) => {
      if (typeof t !== 'string') throw new TypeError(`${what}: text ${k} is not a string.`);
      this.checkText(t, what, k);
    });
    return texts as string[];
  }

  protected checkRange(what: string, index: unknown, count: unknown, allowEnd: boolean): void {
    const n = this.lineCount;
    if (!isInt(index) || !isInt(count) || count < 0 || index < 0) {
      throw new RangeError(`${what}: index and count must be whole numbers >= 0.`);
    }
    if (index > (allowEnd ? n : n - 1) || index + count > n) {
      throw new RangeError(
        `${what}: ${this.noun.many} ${index}..${index + count - 1} are outside the document (${n} ${this.noun.many}).`,
      );
    }
  }

  /** Checks where a move puts records (a store still indexing its end refuses moves to it). */
  protected checkMoveTarget(_to: number, _count: number): void {}

  /**
   * The piece of an `original` segment of an edit: records of the base or of a version kept for
   * undo. In a backup (`restoring`), original segments always refer to the fingerprinted file,
   * whose id may carry a suffix in the process that made the backup.
   */
  protected originalPiece(
    seg: Partial<OriginalSegment>,
    k: number,
    what: string,
    restoring: boolean,
  ): Piece<B> {
    const { many } = this.noun;
    const base = restoring || seg.base === this.base.id ? this.base : this.retired.get(String(seg.base));
    if (!base) {
      throw new Error(
        `${what}: the edit refers to ${many} of an earlier version of "${this._path}" that is no longer kept (it was changed on disk or reloaded, or earlier versions were released); it cannot be applied to the current file.`,
      );
    }
    const { start, count } = seg;
    if (!isInt(start) || !isInt(count) || start < 0 || count < 0 || start + count > this.recordsOf(base)) {
      throw new RangeError(`${what}: segment ${k} refers to original ${many} that do not exist.`);
    }
    return { kind: 'original', base, start, count };
  }

  /** Turns an edit's segments into pieces of the table. */
  protected abstract segmentsToPieces(segments: unknown, what: string): Piece<B>[];

  /** Applies an edit and returns its inverse (applying the inverse restores the exact previous state). */
  apply(edit: StoreEdit): StoreEdit {
    this.checkOpen();
    if (this.saving)
      throw new Error(`"${this._path}" is being saved; edits must wait until the save is done.`);
    const inverse = applyToTable(this.table, edit, {
      checkTexts: (texts, what) => this.checkTexts(texts, what),
      checkRange: (what, index, count, allowEnd) => this.checkRange(what, index, count, allowEnd),
      checkMoveTarget: (to, count) => this.checkMoveTarget(to, count),
      toPieces: (segments, what) => this.segmentsToPieces(segments, what),
    });
    this._version++;
    return inverse;
  }

  // ---- saving --------------------------------------------------------------------------------

  /** Saves atomically over the file and re-bases the store on what was written. */
  async save(opts: SaveOptions = {}): Promise<void> {
    await this.saveTo(this._path, opts, true);
  }

  /**
   * Saves to another path. By default the store is afterwards based on (and its `path` is) what was
   * written, when it can read it; with `{ rebase: false }` it writes a copy and stays on its own
   * file, edits and all.
   */
  async saveAs(target: string, opts: SaveAsOptions = {}): Promise<void> {
    await this.saveTo(target, opts, opts.rebase ?? true);
  }

  private async saveTo(target: string, opts: SaveOptions, rebase: boolean): Promise<void> {
    this.checkOpen();
    if (this.saving) throw new Error(`"${this._path}" is already being saved.`);
    this.saving = true;
    try {
      await this.saveUnguarded(target, opts, rebase);
    } finally {
      this.saving = false;
    }
  }

  /**
   * Keeps a version replaced by a save readable (its open handle keeps the old file alive after the
   * rename) so that inverse edits made before the save still apply; the oldest versions beyond the
   * limit that the document does not show records of are released.
   */
  protected async retire(old: B): Promise<void> {
    this.markRetired(old);
    if (this.maxRetired > 0) this.retired.set(old.id, old);
    else await this.closeBase(old);
    const unused = [...this.retired.values()].filter((b) => !this.table.references(b));
    while (unused.length > 0 && this.retired.size > this.maxRetired) {
      const b = unused.shift() as B;
      this.retired.delete(b.id);
      await this.closeBase(b);
    }
  }

  /**
   * Releases the earlier versions kept for undo across a save, except those the document currently
   * shows records of. Call it when the undo stack that may refer to them is cleared; afterwards
   * edits that refer to them are refused. Returns how many were released.
   */
  async releaseRetiredBases(): Promise<number> {
    let n = 0;
    for (const b of [...this.retired.values()]) {
      if (this.table.references(b)) continue;
      this.retired.delete(b.id);
      await this.closeBase(b);
      n++;
    }
    return n;
  }

  // ---- backups, external changes -----------------------------------------------------------

  /**
   * Ends a restore from a backup: the document must have as many records as the backup says (when
   * it says); it is then one unsaved version ahead of the file.
   */
  protected restored(lineCount: unknown): void {
    if (isInt(lineCount) && lineCount >= 0 && lineCount !== this.lineCount) {
      throw new Error(
        `Cannot restore "${this._path}": the backup describes ${lineCount} ${this.noun.many} but applying it gives ${this.lineCount}.`,
      );
    }
    this._version = 1;
    this.savedVersion = 0;
  }

  /** The fingerprint of the file at the store's path as it is now on disk. */
  fingerprint(): Promise<Fingerprint> {
    return fingerprintFile(this._path);
  }

  /** True when the file on disk is no longer the version the store is based on (or is gone); a touch is no change. */
  async hasChangedOnDisk(): Promise<boolean> {
    try {
      const d = await this.diskState();
      return d.change !== 'none' && d.change !== 'touched';
    } catch {
      return true;
    }
  }
}

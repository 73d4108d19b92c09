/**
 * Applying an edit to the edit overlay (the piece table) and computing its exact inverse: the same
 * for every store (the byte-range store of JSONL and JSON arrays, the Parquet row store). The store
 * says what its texts may be, where its document ends, and how segments name its file versions.
 */
import { pieceLength, type Piece, type PieceTable } from './pieces';
import type { Segment, StoreEdit } from './types';

/** What a store checks while an edit is applied. */
export interface OverlayChecks<B> {
  /** The texts of an edit called `what`, checked (throws a clear error otherwise). */
  checkTexts(texts: unknown, what: string): string[];
  /** Throws when `index .. index + count - 1` is not a range of the document (`allowEnd`: index may be its end). */
  checkRange(what: string, index: unknown, count: unknown, allowEnd: boolean): void;
  /** Throws when records cannot be moved to `to` yet (the end of a file still being indexed). */
  checkMoveTarget?(to: number, count: number): void;
  /** The pieces that segments of an edit describe. */
  toPieces(segments: unknown, what: string): Piece<B>[];
}

/** A number that is a safe integer (edit arguments, counts and offsets are checked with it). */
export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v);
}

/** Pieces as segments (original runs name their file version by id). */
export function toSegments<B extends { readonly id: string }>(pieces: Iterable<Piece<B>>): Segment[] {
  const out: Segment[] = [];
  for (const p of pieces) {
    out.push(
      p.kind === 'original'
        ? { kind: 'original', start: p.start, count: p.count, base: p.base.id }
        : { kind: 'text', texts: p.texts.slice() },
    );
  }
  return out;
}

/** Applies `edit` to `table` and returns its inverse (applying that restores the exact previous state). */
export function applyToTable<B extends { readonly id: string }>(
  table: PieceTable<B>,
  edit: StoreEdit,
  c: OverlayChecks<B>,
): StoreEdit {
  const e = edit as Partial<Record<string, unknown>> & { kind?: unknown };
  switch (e.kind) {
    case 'replace': {
      const texts = c.checkTexts(e.texts, 'replace');
      c.checkRange('replace', e.index, texts.length, false);
      const index = e.index as number;
      const removed = table.remove(index, texts.length);
      table.insert(index, [{ kind: 'text', texts: texts.slice() }]);
      return { kind: 'splice', index, deleteCount: texts.length, insert: toSegments(removed) };
    }
    case 'insert': {
      const texts = c.checkTexts(e.texts, 'insert');
      c.checkRange('insert', e.index, 0, true);
      const index = e.index as number;
      table.insert(index, [{ kind: 'text', texts: texts.slice() }]);
      return { kind: 'delete', index, count: texts.length };
    }
    case 'delete': {
      c.checkRange('delete', e.index, e.count, false);
      const index = e.index as number;
      const removed = table.remove(index, e.count as number);
      return { kind: 'splice', index, deleteCount: 0, insert: toSegments(removed) };
    }
    case 'move': {
      c.checkRange('move', e.from, e.count, false);
      const from = e.from as number;
      const count = e.count as number;
      const to = e.to;
      if (!isInt(to) || to < 0 || to > table.length - count) {
        throw new RangeError(`move: target ${String(to)} is outside 0..${table.length - count}.`);
      }
      c.checkMoveTarget?.(to, count);
      table.insert(to, table.remove(from, count));
      return { kind: 'move', from: to, count, to: from };
    }
    case 'splice': {
      const pieces = c.toPieces(e.insert, 'splice');
      c.checkRange('splice', e.index, e.deleteCount, true);
      const index = e.index as number;
      const removed = table.remove(index, e.deleteCount as number);
      table.insert(index, pieces);
      const inserted = pieces.reduce((a, p) => a + pieceLength(p), 0);
      return { kind: 'splice', index, deleteCount: inserted, insert: toSegments(removed) };
    }
    default:
      throw new TypeError(`Unknown edit kind ${JSON.stringify(e.kind)}.`);
  }
}

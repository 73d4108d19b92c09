/**
 * How the file at a document's path compares with the version the document was read from, and the
 * refusal a save over it gives when another program changed it. Shared by every store (the
 * byte-range store of JSONL and JSON arrays, and the Parquet row store).
 */
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileBase } from './base';
import { SaveRefusedError } from './errors';
import type { DiskState } from './types';

/**
 * Compares the file at `path` with `base`: the same file (device and inode), and the same bytes
 * (size, and the checksums of its blocks; a touch that changed only the times is "touched"). With
 * `quick`, only size and times are compared (while the file is still being indexed).
 */
export async function diskStateOf(path: string, base: FileBase, quick = false): Promise<DiskState> {
  let pst: Stats;
  try {
    pst = await stat(path);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      const folder = await stat(dirname(path)).catch(() => undefined);
      return folder?.isDirectory() ? { change: 'deleted' } : { change: 'deleted', folderMissing: true };
    }
    throw err;
  }
  const id = base.ident;
  if (pst.dev !== id.dev || pst.ino !== id.ino) return { change: 'replaced', size: pst.size };
  const size0 = base.fp.size;
  if (quick) {
    if (pst.size !== size0) return { change: pst.size > size0 ? 'appended' : 'truncated', size: pst.size };
    const same = pst.mtimeMs === id.mtimeMs && pst.ctimeMs === id.ctimeMs;
    return { change: same ? 'none' : 'rewritten', size: pst.size };
  }
  const c = await base.checkContent();
  if (c.size > size0) return { change: c.changed.length > 0 ? 'rewritten' : 'appended', size: c.size };
  if (c.size < size0) return { change: 'truncated', size: c.size };
  if (c.changed.length > 0) return { change: 'rewritten', size: c.size };
  return { change: c.touched ? 'touched' : 'none', size: c.size };
}

/** A refusal to save over `path` (read at `size0` bytes) that another program changed, in words. */
export function conflictRefusal(path: string, size0: number, d: DiskState): SaveRefusedError {
  const what: Record<Exclude<DiskState['change'], 'none' | 'touched'>, string> = {
    replaced:
      'another program replaced it since it was opened (the name now belongs to a different file, as after an editor\'s save, "mv", "git checkout" or "git pull")',
    deleted: d.folderMissing
      ? `it was deleted since it was opened: the folder "${dirname(path)}" does not exist any more`
      : 'it was deleted or moved away since it was opened',
    appended: `another program added ${(d.size ?? size0) - size0} bytes to its end since it was opened`,
    truncated: `another program shortened it from ${size0} to ${d.size ?? 0} bytes since it was opened`,
    rewritten: 'another program changed its content in place since it was opened',
  };
  const change = d.change === 'none' || d.change === 'touched' ? 'rewritten' : d.change;
  return new SaveRefusedError(
    change,
    path,
    `Cannot save "${path}": ${what[change]}. Saving would lose that version, so nothing was written. Reload it (your edits are discarded), or save your edits to another file.`,
    true,
  );
}

/** Turns file-system errors into sentences people understand. */

function codeOf(err: unknown): string | undefined {
  if (typeof err === 'object' && err !== null && 'code' in err) {
    const code = err.code;
    return typeof code === 'string' ? code : undefined;
  }
  return undefined;
}

export function explainFsError(err: unknown, folder: string): string {
  switch (codeOf(err)) {
    case 'ENOSPC':
      return 'there is no space left on the disk';
    case 'EDQUOT':
      return 'the disk quota is exceeded';
    case 'EACCES':
    case 'EPERM':
      return `permission denied (the folder "${folder}" or the file is not writable)`;
    case 'EROFS':
      return 'the file system is read-only';
    case 'ENOENT':
      return `the folder "${folder}" does not exist`;
    case 'ENOTDIR':
      return `a part of the path "${folder}" is not a folder`;
    case 'EISDIR':
      return 'the target is a folder, not a file';
    case 'EMFILE':
    case 'ENFILE':
      return 'too many files are open';
    case 'EIO':
      return 'the disk reported an input/output error';
    case 'EXDEV':
      return 'the temporary file ended up on a different disk than the target';
    default:
      return err instanceof Error ? err.message : String(err);
  }
}

/** Why a save was refused before anything was written. */
export type SaveRefusal =
  /** The path names another file now (renamed over, deleted and re-created, link retargeted). */
  | 'replaced'
  /** Nothing exists at the path any more. */
  | 'deleted'
  /** The file the document was opened on grew (bytes added at the end). */
  | 'appended'
  /** The file the document was opened on got shorter. */
  | 'truncated'
  /** The file the document was opened on has other bytes at the same size. */
  | 'rewritten'
  /** Lines the save has to copy from the opened version can no longer be read as they were. */
  | 'unrecoverable'
  /** The file has other names (hard links) that an atomic save would leave on the old content. */
  | 'hardlink'
  /** The file is read-only. */
  | 'readonly';

/**
 * A save refused because writing would lose someone's data or break a promise (nothing was written).
 * `reason` says why; `canSaveAs` whether the document can still be written to another file.
 */
export class SaveRefusedError extends Error {
  override readonly name = 'SaveRefusedError';
  constructor(
    readonly reason: SaveRefusal,
    readonly path: string,
    message: string,
    readonly canSaveAs: boolean,
    /** For 'unrecoverable': the first and last line (0-based) of the document that cannot be written. */
    readonly lostLines?: { first: number; last: number; count: number },
  ) {
    super(message);
  }
}

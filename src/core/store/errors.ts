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

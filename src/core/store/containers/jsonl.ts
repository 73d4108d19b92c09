import { LineIndex } from '../lineIndex';
import { writeDocument } from '../save';
import { scanLinesSplit } from './splitScan';
import type { Container } from './types';

/** JSON Lines: one record per physical line; the line endings lie between records. */
export const jsonlContainer: Container = {
  kind: 'jsonl',
  preserves: 'bytes',
  newIndex: (bomLength, capacity) => new LineIndex(bomLength, capacity),
  async scan(fh, index, from, size, opts) {
    await scanLinesSplit(fh, index, from, size, opts);
  },
  checkText(text, what, k) {
    if (text.includes('\n') || text.includes('\r')) {
      throw new Error(`${what}: text ${k} contains a line break; a line cannot contain "\\n" or "\\r".`);
    }
  },
  write: (out, input) => writeDocument(out, input),
};

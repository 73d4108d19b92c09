import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../../support/random';
import { datasetsIn } from '../../support/fixtures';

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
}

const ALPHABET = [
  'a',
  'b',
  'z',
  ' ',
  '{',
  '}',
  '"',
  ':',
  ',',
  '\t',
  'é',
  'ß',
  '中',
  '文',
  '🦜',
  '\\',
  '0',
  '9',
];

/** Random line text without line breaks. */
export function randomText(rng: Rng, maxLen = 40): string {
  const n = rng.int(0, maxLen);
  let s = '';
  for (let i = 0; i < n; i++) s += rng.pick(ALPHABET);
  return s;
}

/** Random line bytes: mostly valid UTF-8, sometimes broken sequences; never ends with CR, no LF. */
export function randomLineBytes(rng: Rng): Buffer {
  const text = Buffer.from(randomText(rng), 'utf8');
  if (!rng.chance(0.1)) return text;
  const bad = rng.pick([[0xff], [0xc3], [0xe4, 0xb8], [0x80, 0x80], [0xf0, 0x9f, 0xa6]]);
  const at = rng.int(0, text.length);
  return Buffer.concat([text.subarray(0, at), Buffer.from(bad), text.subarray(at)]);
}

export type RefEol = 'lf' | 'crlf' | 'none' | 'new';
export interface RefLine {
  bytes: Buffer;
  eol: RefEol;
  /** For a line without an ending of its own: the ending it was saved with while not last. */
  added?: 'lf' | 'crlf';
}

/** The simplest possible model of the document: an array of lines with their bytes and ending. */
export class RefModel {
  lines: RefLine[];
  constructor(
    lines: RefLine[],
    readonly hasBom: boolean,
    public dominant: 'lf' | 'crlf',
    public finalNewline: boolean,
  ) {
    this.lines = lines.slice();
  }

  static parse(file: Buffer): RefModel {
    let hasBom = false;
    let pos = 0;
    if (file.length >= 3 && file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf) {
      hasBom = true;
      pos = 3;
    }
    const lines: RefLine[] = [];
    while (pos < file.length) {
      const nl = file.indexOf(10, pos);
      if (nl < 0) {
        lines.push({ bytes: file.subarray(pos), eol: 'none' });
        break;
      }
      const crlf = nl > pos && file[nl - 1] === 13;
      lines.push({ bytes: file.subarray(pos, crlf ? nl - 1 : nl), eol: crlf ? 'crlf' : 'lf' });
      pos = nl + 1;
    }
    const crlf = lines.filter((l) => l.eol === 'crlf').length;
    const lf = lines.filter((l) => l.eol === 'lf').length;
    const finalNewline = lines.length === 0 || lines[lines.length - 1].eol !== 'none';
    return new RefModel(lines, hasBom, crlf > lf ? 'crlf' : 'lf', finalNewline);
  }

  texts(): string[] {
    return this.lines.map((l) => l.bytes.toString('utf8'));
  }

  serialize(): Buffer {
    const dom = Buffer.from(this.dominant === 'crlf' ? '\r\n' : '\n');
    const parts: Buffer[] = [];
    if (this.hasBom) parts.push(Buffer.from([0xef, 0xbb, 0xbf]));
    this.lines.forEach((l, j) => {
      const last = j === this.lines.length - 1;
      parts.push(l.bytes);
      if (l.eol === 'lf') parts.push(Buffer.from('\n'));
      else if (l.eol === 'crlf') parts.push(Buffer.from('\r\n'));
      else if (l.eol === 'none') {
        if (!last) parts.push(l.added ? Buffer.from(l.added === 'crlf' ? '\r\n' : '\n') : dom);
      } else if (!last || this.finalNewline) parts.push(dom);
    });
    return Buffer.concat(parts);
  }

  /**
   * After the document was saved as `saved`: new lines now have the ending they were written with,
   * lines without an ending of their own remember the one they got, and the dominant ending and
   * final newline are those of the saved file.
   */
  rebase(saved: Buffer): void {
    const dom = this.dominant;
    const n = this.lines.length;
    this.lines = this.lines.map((l, j) => {
      const last = j === n - 1;
      if (l.eol === 'new') return { bytes: l.bytes, eol: !last || this.finalNewline ? dom : 'none' };
      if (l.eol === 'none')
        return { bytes: l.bytes, eol: 'none', added: last ? undefined : (l.added ?? dom) };
      return l;
    });
    const parsed = RefModel.parse(saved);
    this.dominant = parsed.dominant;
    this.finalNewline = parsed.finalNewline;
  }

  replace(index: number, texts: string[]): void {
    this.lines.splice(
      index,
      texts.length,
      ...texts.map((t) => ({ bytes: Buffer.from(t), eol: 'new' as const })),
    );
  }
  insert(index: number, texts: string[]): void {
    this.lines.splice(index, 0, ...texts.map((t) => ({ bytes: Buffer.from(t), eol: 'new' as const })));
  }
  delete(index: number, count: number): void {
    this.lines.splice(index, count);
  }
  move(from: number, count: number, to: number): void {
    const moved = this.lines.splice(from, count);
    this.lines.splice(to, 0, ...moved);
  }
}

/** A fresh temporary folder, removed by the returned cleanup function. */
export async function tempDir(): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'parrot-store-'));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** The shared real datasets (beside the repository). */
export function datasetsDir(): string {
  return datasetsIn(resolve(__dirname, '..', '..', '..', '..'));
}

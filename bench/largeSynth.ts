/**
 * A fast seeded generator of large synthetic dialogue datasets (ShareGPT and OpenAI chat records
 * mixed, one JSON object per line), for the large-file editor test and benchmark. A pool of record
 * bodies is built once; each line is a unique id followed by a body picked from the pool, copied into
 * big buffers, so writing a gigabyte costs little more than the disk writes. No `vscode` import: the
 * benchmark's Node side uses it too.
 */
import { execFile } from 'node:child_process';
import { open } from 'node:fs/promises';
import { mulberry32 } from '../test/support/random';

const WORDS = (
  'the a of to and in is it that for you with on as this be are was can by or from an at not your ' +
  'function model data train loss token context question answer dialogue python list error value ' +
  'return because however example please explain why how what which when where should could would ' +
  'memory file line record batch epoch learning rate gradient layer attention reference previous'
).split(' ');

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(rnd() * xs.length)];
  if (x === undefined) throw new Error('pick from an empty list');
  return x;
}

function sentence(rnd: () => number): string {
  const n = 6 + Math.floor(rnd() * 14);
  const words: string[] = [];
  for (let i = 0; i < n; i++) words.push(pick(rnd, WORDS));
  let s = words.join(' ');
  s = s.charAt(0).toUpperCase() + s.slice(1) + (rnd() < 0.2 ? '?' : '.');
  if (rnd() < 0.05) s += ' Ünïcödé — 中文 🦜.';
  if (rnd() < 0.05) s += '\n```python\nprint("x")\n```\n';
  return s;
}

function text(rnd: () => number, min: number, max: number): string {
  const n = min + Math.floor(rnd() * (max - min + 1));
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(sentence(rnd));
  return parts.join(' ');
}

/** A record body without its opening brace: `"conversations":[...]}` or `"messages":[...]}`. */
function body(rnd: () => number): string {
  const turns = 2 * (1 + Math.floor(rnd() * 4));
  if (rnd() < 0.5) {
    const conversations = [];
    for (let t = 0; t < turns; t++) {
      conversations.push(
        t % 2 === 0 ? { from: 'human', value: text(rnd, 1, 4) } : { from: 'gpt', value: text(rnd, 3, 14) },
      );
    }
    return JSON.stringify({ conversations }).slice(1);
  }
  const messages: { role: string; content: string }[] = [];
  if (rnd() < 0.5) messages.push({ role: 'system', content: text(rnd, 1, 2) });
  for (let t = 0; t < turns; t++) {
    messages.push(
      t % 2 === 0
        ? { role: 'user', content: text(rnd, 1, 4) }
        : { role: 'assistant', content: text(rnd, 3, 14) },
    );
  }
  return JSON.stringify({ messages }).slice(1);
}

const POOL = 1024;
const CHUNK = 16 * 1024 * 1024;

export interface SynthFile {
  path: string;
  bytes: number;
  lines: number;
}

/**
 * Writes a dataset of at least `bytes` bytes (whole lines, LF endings) to `path` and fsyncs it.
 * Line `i` is `{"id":"synth_<i>",` followed by a body from the seeded pool.
 */
export async function writeSynthDataset(path: string, bytes: number, seed = 7): Promise<SynthFile> {
  const rnd = mulberry32(seed);
  const pool: Buffer[] = [];
  for (let i = 0; i < POOL; i++) pool.push(Buffer.from(body(rnd) + '\n', 'utf8'));
  const longest = Math.max(...pool.map((b) => b.length));
  const chunk = Buffer.allocUnsafe(CHUNK + longest + 64);
  const fh = await open(path, 'w');
  let written = 0;
  let lines = 0;
  try {
    while (written < bytes) {
      let pos = 0;
      while (pos < CHUNK && written + pos < bytes) {
        pos += chunk.write(`{"id":"synth_${lines}",`, pos, 'latin1');
        pos += pick(rnd, pool).copy(chunk, pos);
        lines++;
      }
      let off = 0;
      while (off < pos) off += (await fh.write(chunk, off, pos - off)).bytesWritten;
      written += pos;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  return { path, bytes: written, lines };
}

/**
 * Asks the kernel to drop the file's pages from the page cache (GNU dd's `iflag=nocache`), so that
 * the next open reads from disk as on a first open. Resolves false where that is not possible.
 */
export function dropFromPageCache(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('dd', [`if=${path}`, 'iflag=nocache', 'count=0', 'status=none'], (err) => resolve(!err));
  });
}

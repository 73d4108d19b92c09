/**
 * Seeded ShareGPT-like files for the throughput benchmark: one `{"id", "conversations"}` record per
 * line, 2–8 turns, texts from a pool of generated sentences. `cjk` mixes in Chinese sentences so that
 * about 10% of the characters are CJK (about a quarter of the bytes). Written in 8 MiB batches to
 * bench-data/ (git-ignored) and reused when a file of that kind, size and seed exists.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { mulberry32 } from '../test/support/random';
import { repoRoot } from './synth';

const WORDS = (
  'the a of to and in is it that for you with on as this be are was can by or from an at not your ' +
  'function model data train loss token context question answer dialogue python list error value ' +
  'return because however example please explain why how what which when where should could would ' +
  'first second next then also more less memory file line record batch epoch learning rate gradient'
).split(' ');
const HAN =
  '的一是不了人我在有他这中大来上国个到说们为子和你地出道也时年得就那要下以生会自之着去之过家学对可里后';

export type SynthKind = 'ascii' | 'cjk';

/** One generator per file: `record()` gives the next line (without its newline). */
export function shareGptLines(kind: SynthKind, seed = 7): () => string {
  const rnd = mulberry32(seed);
  const pool: string[] = [];
  for (let i = 0; i < 4096; i++) {
    const cjk = kind === 'cjk' && rnd() < 0.3;
    const n = 6 + Math.floor(rnd() * 16);
    const parts: string[] = [];
    for (let w = 0; w < n; w++) {
      parts.push(cjk ? HAN[Math.floor(rnd() * HAN.length)] : WORDS[Math.floor(rnd() * WORDS.length)]);
    }
    let s = cjk ? parts.join('') + '。' : parts.join(' ');
    if (!cjk) s = s[0].toUpperCase() + s.slice(1) + (rnd() < 0.2 ? '?' : '.');
    if (rnd() < 0.05) s += '\n```python\nprint("x")\n```\n';
    pool.push(s);
  }
  const text = (min: number, max: number): string => {
    const n = min + Math.floor(rnd() * (max - min + 1));
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(pool[Math.floor(rnd() * pool.length)]);
    return parts.join(' ');
  };
  let id = 0;
  return () => {
    const turns = 2 * (1 + Math.floor(rnd() * 4));
    const conversations = [];
    for (let t = 0; t < turns; t++) {
      conversations.push(
        t % 2 === 0 ? { from: 'human', value: text(1, 4) } : { from: 'gpt', value: text(3, 18) },
      );
    }
    return JSON.stringify({ id: `sg_${(id++).toString(36)}`, conversations });
  };
}

/** Path of a ShareGPT-like file of at least `bytes` bytes (created on first use). */
export async function ensureShareGpt(kind: SynthKind, bytes: number, seed = 7): Promise<string> {
  const dir = join(repoRoot(), 'bench-data');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `sharegpt-${kind}-s${seed}-${bytes}.jsonl`);
  if (existsSync(file) && (await stat(file)).size >= bytes) return file;
  const tmp = `${file}.partial`;
  const fh = await open(tmp, 'w');
  try {
    const next = shareGptLines(kind, seed);
    let written = 0;
    while (written < bytes) {
      const lines: string[] = [];
      let batch = 0;
      while (batch < 8 << 20 && written + batch < bytes) {
        const line = next() + '\n';
        lines.push(line);
        batch += line.length; // an estimate: the batch is sized by characters
      }
      const buf = Buffer.from(lines.join(''), 'utf8');
      await fh.write(buf);
      written += buf.length;
    }
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return file;
}

/**
 * A seeded generator of a synthetic multi-turn dialogue dataset (ShareGPT and OpenAI chat records
 * mixed, one JSON object per line) of a requested size, for benchmarks. Files go to bench-data/
 * (git-ignored) and are reused when one with the same size and seed exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open, rename, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { mulberry32 } from '../test/support/random';

const WORDS = (
  'the a of to and in is it that for you with on as this be are was can by or from an at not your ' +
  'function model data train loss token context question answer dialogue python list error value ' +
  'return because however example please explain why how what which when where should could would ' +
  'first second next then also more less memory file line record batch epoch learning rate ' +
  'gradient layer attention reference previous above mentioned code output input result test ' +
  'the user asked about it again so we can check that part and fix the bug in this version'
).split(' ');

/** The repository root (bench files run from out/bench/). */
export function repoRoot(): string {
  return resolve(__dirname, '..', '..');
}

class Generator {
  private readonly rnd: () => number;
  private readonly sentences: string[] = [];
  private id = 0;
  constructor(seed: number) {
    this.rnd = mulberry32(seed);
    for (let i = 0; i < 4096; i++) {
      const n = 6 + Math.floor(this.rnd() * 16);
      const words: string[] = [];
      for (let w = 0; w < n; w++) words.push(WORDS[Math.floor(this.rnd() * WORDS.length)]);
      let s = words.join(' ');
      s = s[0].toUpperCase() + s.slice(1) + (this.rnd() < 0.2 ? '?' : '.');
      if (this.rnd() < 0.05) s += ' Ünïcödé — 中文 🦜.';
      if (this.rnd() < 0.05) s += '\n```python\nprint("x")\n```\n';
      this.sentences.push(s);
    }
  }
  private text(min: number, max: number): string {
    const n = min + Math.floor(this.rnd() * (max - min + 1));
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(this.sentences[Math.floor(this.rnd() * this.sentences.length)]);
    return parts.join(' ');
  }
  record(): string {
    const turns = 2 * (1 + Math.floor(this.rnd() * 4));
    const id = this.id++;
    if (this.rnd() < 0.5) {
      const conversations = [];
      for (let t = 0; t < turns; t++) {
        conversations.push(
          t % 2 === 0 ? { from: 'human', value: this.text(1, 4) } : { from: 'gpt', value: this.text(3, 18) },
        );
      }
      return JSON.stringify({ id: `synth_${id}`, conversations });
    }
    const messages: { role: string; content: string }[] = [];
    if (this.rnd() < 0.5) messages.push({ role: 'system', content: this.text(1, 2) });
    for (let t = 0; t < turns; t++) {
      messages.push(
        t % 2 === 0
          ? { role: 'user', content: this.text(1, 4) }
          : { role: 'assistant', content: this.text(3, 18) },
      );
    }
    return JSON.stringify({ messages });
  }
}

/** Path of a synthetic JSONL dataset of at least `bytes` bytes (created on first use). */
export async function ensureSynthDataset(bytes: number, seed = 42): Promise<string> {
  const dir = join(repoRoot(), 'bench-data');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `synth-s${seed}-${bytes}.jsonl`);
  if (existsSync(file) && (await stat(file)).size >= bytes) return file;
  const tmp = `${file}.partial`;
  const fh = await open(tmp, 'w');
  try {
    const gen = new Generator(seed);
    let written = 0;
    while (written < bytes) {
      const lines: string[] = [];
      let batch = 0;
      while (batch < 8 * 1024 * 1024 && written + batch < bytes) {
        const line = gen.record() + '\n';
        lines.push(line);
        batch += Buffer.byteLength(line);
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

/**
 * Path of a synthetic dataset of at least `bytes` bytes as one pretty-printed JSON array (Python's
 * json.dump(indent=2) layout, as LLaMA-Factory's data files), with the same records as
 * ensureSynthDataset (created on first use).
 */
export async function ensureSynthJsonArray(bytes: number, seed = 42): Promise<string> {
  const dir = join(repoRoot(), 'bench-data');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `synth-s${seed}-${bytes}.json`);
  if (existsSync(file) && (await stat(file)).size >= bytes) return file;
  const tmp = `${file}.partial`;
  const fh = await open(tmp, 'w');
  try {
    const gen = new Generator(seed);
    await fh.write('[\n');
    let written = 2;
    let first = true;
    while (written < bytes) {
      const parts: string[] = [];
      let batch = 0;
      while (batch < 8 * 1024 * 1024 && written + batch < bytes) {
        const el = JSON.stringify(JSON.parse(gen.record()), null, 2).replace(/\n/g, '\n  ');
        const part = (first ? '  ' : ',\n  ') + el;
        first = false;
        parts.push(part);
        batch += Buffer.byteLength(part);
      }
      const buf = Buffer.from(parts.join(''), 'utf8');
      await fh.write(buf);
      written += buf.length;
    }
    await fh.write('\n]\n');
  } finally {
    await fh.close();
  }
  await rename(tmp, file);
  return file;
}

/**
 * Peak RSS of this process in KiB. On Linux from /proc/self/status (VmHWM), which starts afresh at
 * exec; getrusage's maxRSS keeps the peak of the process that forked this one.
 */
export function peakRssKiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS;
}

/**
 * Random ShareGPT-like records for the fast-path tests: mostly clean, sometimes with what the rules
 * or the schema reject; writings JSON.stringify never makes (rewrite); one-character edits (mutate).
 */
import { isUtf8 } from 'node:buffer';

const PIECES = [
  'Hello',
  'world',
  ' ',
  '  ',
  '\n',
  '\t',
  '"',
  '\\',
  '/',
  '\r',
  '\b',
  '\f',
  '\u00a0',
  '\u3000',
  '\u2003',
  '\u200b',
  '\u4e2d\u6587',
  '\ud83e\udd9c',
  'caf\u00e9',
  '',
  'x',
  '\u0001',
];
const ROLES = [
  'human',
  'gpt',
  'user',
  'assistant',
  'system',
  'tool',
  'observation',
  'function_call',
  'bot',
  '',
];

export function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

function randomText(rnd: () => number): string {
  const n = Math.floor(rnd() * 6);
  let s = '';
  for (let i = 0; i < n; i++) s += pick(rnd, PIECES);
  return rnd() < 0.6 ? `Word ${s} end` : s;
}

/** A ShareGPT-like record, mostly clean, sometimes with something the rules or the schema reject. */
export function randomRecord(rnd: () => number): Record<string, unknown> {
  const turns: Record<string, unknown>[] = [];
  const n = Math.floor(rnd() * 5) + (rnd() < 0.05 ? 0 : 1);
  const clean = rnd() < 0.5;
  for (let i = 0; i < n; i++) {
    const role = clean
      ? i % 2 === 0
        ? pick(rnd, ['human', 'user'])
        : pick(rnd, ['gpt', 'assistant'])
      : pick(rnd, ROLES);
    const t: Record<string, unknown> =
      rnd() < 0.2 ? { value: randomText(rnd), from: role } : { from: role, value: randomText(rnd) };
    if (!clean && rnd() < 0.1) t.weight = 1;
    if (!clean && rnd() < 0.05) t.value = rnd() < 0.5 ? 3 : '';
    turns.push(t);
  }
  if (clean && n % 2 === 1) turns.push({ from: 'gpt', value: 'ok' });
  if (rnd() < 0.1) turns.unshift({ from: 'system', value: randomText(rnd) });
  const rec: Record<string, unknown> = {};
  const id =
    rnd() < 0.8 ? `id_${Math.floor(rnd() * 50)}${rnd() < 0.1 ? '\u00e9' : ''}` : rnd() < 0.5 ? 7 : undefined;
  if (rnd() < 0.5) {
    if (id !== undefined) rec.id = id;
    rec.conversations = turns;
  } else {
    rec.conversations = turns;
    if (id !== undefined) rec.id = id;
  }
  if (!clean && rnd() < 0.1) rec.system = randomText(rnd);
  if (!clean && rnd() < 0.05) rec.chosen = { from: 'gpt', value: 'a' };
  return rec;
}

/** Spaces and tabs between tokens, a CR at the end, duplicated keys: writings JSON.stringify never makes. */
export function rewrite(rnd: () => number, line: string): string {
  let s = line;
  if (rnd() < 0.1) s = s.replace(/([,:{}[\]])/g, (m) => (rnd() < 0.3 ? m + pick(rnd, [' ', '  ', '\t']) : m));
  if (rnd() < 0.05) s = ' ' + s + ' ';
  if (rnd() < 0.05) s += '\r';
  if (rnd() < 0.03) s = s.replace('{"', '{"id":"dup","');
  return s;
}

/** One random edit: a character deleted, inserted or replaced. */
export function mutate(rnd: () => number, s: string): string {
  const at = Math.floor(rnd() * (s.length + 1));
  const c = pick(rnd, [
    '"',
    '\\',
    ',',
    '{',
    '}',
    '[',
    ']',
    ':',
    ' ',
    '\t',
    'x',
    '\u0001',
    'u',
    'n',
    '0',
    '\u00e9',
  ]);
  switch (Math.floor(rnd() * 3)) {
    case 0:
      return s.slice(0, at) + s.slice(at + 1);
    case 1:
      return s.slice(0, at) + c + s.slice(at);
    default:
      return s.slice(0, at) + c + s.slice(at + 1);
  }
}

/**
 * Random lines joined into blocks of up to `size` bytes (a few blank or odd lines among them, CRLF
 * endings in some blocks, a final newline or not); only valid UTF-8 blocks are kept.
 */
export function randomBlocks(size: number, rnd: () => number, count: number, line: () => string): Buffer[] {
  const blocks: Buffer[] = [];
  for (let b = 0; b < count; b++) {
    const lines: string[] = [];
    const n = 1 + Math.floor(rnd() * 40);
    for (let i = 0; i < n; i++) lines.push(rnd() < 0.03 ? pick(rnd, ['', ' ', '\r', '{}']) : line());
    let text = lines.join(rnd() < 0.1 ? '\r\n' : '\n');
    if (rnd() < 0.5) text += '\n';
    let buf = Buffer.from(text, 'utf8');
    if (buf.length > size) buf = buf.subarray(0, buf.lastIndexOf(10, size - 1) + 1);
    if (isUtf8(buf) && buf.length > 0) blocks.push(buf);
  }
  return blocks;
}

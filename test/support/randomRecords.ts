/** Seeded random dataset records of several formats (for equality tests of convert). */

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)];
}

const TEXTS = [
  'Hi',
  'caf\u00e9 \u4e2d\u6587 \ud83e\udd9c',
  'a "quoted"\nline\t\\',
  '',
  '  ',
  '\u2028\u007f',
  'x'.repeat(300),
];
const NUMBERS = [0, -0, 1, 1.5, 1e21, 1e-7, 123456789012, -3.25];

/** Random JSON values of the model (what JSON.parse gives), nested a little. */
export function randomValue(rnd: () => number, depth = 0): unknown {
  const k = Math.floor(rnd() * (depth > 2 ? 4 : 6));
  switch (k) {
    case 0:
      return pick(rnd, TEXTS);
    case 1:
      return pick(rnd, NUMBERS);
    case 2:
      return pick(rnd, [true, false, null]);
    case 3:
      return pick(rnd, TEXTS) + String(Math.floor(rnd() * 100));
    case 4:
      return Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 4); i > 0; i--)
        o[pick(rnd, ['a', 'b', '1', 'z\u00e9', 'meta'])] = randomValue(rnd, depth + 1);
      return o;
    }
  }
}

/** Records of several formats, with extra fields, number spellings and odd texts. */
export function randomRecord(rnd: () => number): string {
  const n = 1 + Math.floor(rnd() * 4);
  const text = (): string => pick(rnd, TEXTS) + (rnd() < 0.5 ? ` ${Math.floor(rnd() * 1000)}` : '');
  let rec: Record<string, unknown>;
  switch (Math.floor(rnd() * 5)) {
    case 0:
      rec = {
        id: `r${Math.floor(rnd() * 100)}`,
        conversations: Array.from({ length: 2 * n }, (_, i) => ({
          from: i % 2 ? 'gpt' : 'human',
          value: text(),
        })),
      };
      if (rnd() < 0.3) rec.system = text();
      break;
    case 1:
      rec = {
        messages: Array.from({ length: 2 * n }, (_, i) => ({
          role: i % 2 ? 'assistant' : 'user',
          content: rnd() < 0.2 ? [{ type: 'text', text: text() }] : text(),
          ...(i % 2 && rnd() < 0.2 ? { weight: rnd() < 0.5 ? 0 : 1 } : {}),
        })),
      };
      break;
    case 2:
      rec = { instruction: text(), input: rnd() < 0.5 ? '' : text(), output: text() };
      break;
    case 3:
      rec = {
        prompt: [{ role: 'user', content: text() }],
        chosen: [{ role: 'assistant', content: text() }],
        rejected: [{ role: 'assistant', content: text() }],
      };
      break;
    default:
      rec = { question_id: Math.floor(rnd() * 200), category: 'writing', turns: [text(), text()] };
  }
  if (rnd() < 0.3) rec.extra = randomValue(rnd);
  let line = JSON.stringify(rec);
  // Number spellings JSON.stringify does not make, and spaces after separators.
  if (rnd() < 0.1) line = line.replace(/"extra":(-?\d+)([,}])/, '"extra":$1.0$2');
  if (rnd() < 0.1) line = line.replace(/,"/g, ', "');
  return line;
}

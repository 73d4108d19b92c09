// Random JSON arrays for the scan tests: records and values with strings full of quotes,
// backslashes, brackets and multi-byte characters, serialised pretty or compact.
import type { Rng } from './util';

const TRICKY = [
  '"',
  '\\',
  '\\"',
  '\\\\',
  ']',
  '[',
  '}',
  '{',
  ',',
  ':',
  '\n',
  '\r\n',
  'é',
  '中',
  '🦜',
  '\u2028',
  ' ',
  'a',
];

export function trickyString(rng: Rng): string {
  let s = '';
  for (let n = rng.int(0, 12); n > 0; n--) s += rng.pick(TRICKY);
  return s;
}

export function randomValue(rng: Rng, depth: number): unknown {
  const r = rng.int(0, depth > 3 ? 3 : 6);
  switch (r) {
    case 0:
      return trickyString(rng);
    case 1:
      return rng.int(-1000, 1000) / (rng.chance(0.5) ? 1 : 8);
    case 2:
      return rng.pick([true, false, null]);
    case 3:
      return rng.int(0, 9);
    case 4:
    case 5: {
      const o: Record<string, unknown> = {};
      for (let n = rng.int(0, 4); n > 0; n--) o[trickyString(rng) + String(n)] = randomValue(rng, depth + 1);
      return o;
    }
    default:
      return Array.from({ length: rng.int(0, 4) }, () => randomValue(rng, depth + 1));
  }
}

export function randomRecord(rng: Rng): Record<string, unknown> {
  return {
    conversations: Array.from({ length: rng.int(0, 3) }, () => ({
      from: rng.pick(['human', 'gpt']),
      value: trickyString(rng),
    })),
    extra: randomValue(rng, 1),
  };
}

/** Serialises like Python's json.dump (indent, separators) or JSON.stringify, with CRLF sometimes. */
export function serialise(rng: Rng, items: unknown[]): string {
  const style = rng.int(0, 3);
  let text: string;
  if (style === 0) text = JSON.stringify(items);
  else if (style === 1) text = JSON.stringify(items, null, rng.pick([2, 4, '\t']));
  else if (style === 2)
    text = JSON.stringify(items).replace(/,(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)/g, ', ');
  else text = JSON.stringify(items, null, 1);
  if (rng.chance(0.3)) text = text.replace(/\n/g, '\r\n');
  const lead = rng.pick(['', ' ', '\n', '\t\n ']);
  const trail = rng.pick(['', '\n', ' \n\n']);
  return lead + text + trail;
}

/**
 * Seed questions: the first-turn questions a dataset is grown from (the paper grows 20K ShareGPT and
 * 20K UltraChat first-turn queries into Parrot-40K). A seed comes from a plain-text file (one
 * question per line), from MT-Bench question records (their first question), or from the first user
 * turn of a record of any format (with its system prompt and id). Each seed becomes a new dialogue of
 * one user turn in the output format, ready to be extended.
 */
import { contentText, type Dialogue, type FormatId, type Sample } from '../model';

/** Dialogue formats a seed can be written in (extend's output). */
export const SEED_FORMATS = ['sharegpt', 'openai', 'llamafactory-v1'] as const satisfies readonly FormatId[];
export type SeedFormat = (typeof SEED_FORMATS)[number];

/** Whether `file` is read as plain text, one seed question per line. */
export function isPlainSeedFile(file: string): boolean {
  return /\.txt$/i.test(file);
}

/** A seed dialogue from one line of a plain-text seeds file; undefined for a blank line. */
export function seedFromText(line: string): Dialogue | undefined {
  const q = line.trim();
  return q === '' ? undefined : { kind: 'dialogue', turns: [{ role: 'user', content: q }], meta: {} };
}

/**
 * The seed of a record: its first user turn (MT-Bench: the first question), with the record's
 * system prompt and id. Undefined when the record has no user turn with text.
 */
export function seedFromSample(s: Sample): Dialogue | undefined {
  const turns = s.kind === 'dialogue' ? s.turns : s.prompt;
  const first = turns.find((t) => t.role === 'user' && contentText(t.content).trim() !== '');
  if (!first) return undefined;
  const d: Dialogue = { kind: 'dialogue', turns: [{ role: 'user', content: first.content }], meta: {} };
  if (s.system) d.system = s.system;
  if (typeof s.id === 'string') d.id = s.id;
  return d;
}

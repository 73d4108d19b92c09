// The real public datasets the tests read, kept in the repository (test/fixtures/datasets, with their
// sources and licences in its README). No `vscode` import: used by unit, integration and e2e tests.
import * as path from 'node:path';

/** The fixture datasets under a repository (or extension) root. */
export function datasetsIn(root: string): string {
  return path.join(root, 'test', 'fixtures', 'datasets');
}

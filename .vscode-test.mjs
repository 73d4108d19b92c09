// Desktop VS Code (downloaded by @vscode/test-electron) running the same integration tests as the
// offline code-server runner: `npm run test:desktop` (needs internet access to download VS Code).
import { defineConfig } from '@vscode/test-cli';
import { cpSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));
const datasets = resolve(root, 'test', 'fixtures', 'datasets');
// A throw-away copy of the sample datasets, as the code-server runner opens.
const workspace = mkdtempSync(join(tmpdir(), 'parrot-integration-'));
for (const name of readdirSync(datasets))
  if (name.endsWith('.jsonl')) cpSync(join(datasets, name), join(workspace, name));

export default defineConfig({
  label: 'integration',
  files: 'out/test/integration/**/*.test.js',
  version: 'stable',
  workspaceFolder: workspace,
  extensionDevelopmentPath: root,
  env: { PARROT_TEST_WORKSPACE: workspace, PARROT_REPO_ROOT: root },
  mocha: { ui: 'bdd', timeout: 60000, color: true },
  launchArgs: ['--disable-extensions', '--disable-workspace-trust'],
});

// A tests index for the extension host that runs only the files named in PARROT_HOST_FILES
// (comma-separated, relative to the repository root), e.g. the editor benchmark. The integration
// runner loads it instead of the whole suite when PARROT_TEST_INDEX names it:
//   PARROT_TEST_INDEX=out/bench/host.js PARROT_HOST_FILES=out/bench/editor.host.js \
//     node out/test/runner/integration.js
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import Mocha from 'mocha';

/** Mocha's report and console output go to the file the runner streams (PARROT_TEST_OUTPUT). */
function teeToReport(): void {
  const file = process.env.PARROT_TEST_OUTPUT;
  if (!file) return;
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const wrap =
    (orig: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      fs.appendFileSync(file, format(...args) + '\n');
      orig(...args);
    };
  base.consoleLog = wrap(base.consoleLog);
  console.log = wrap(console.log);
  console.error = wrap(console.error);
}

export function run(): Promise<void> {
  const root = process.env.PARROT_REPO_ROOT ?? path.resolve(__dirname, '..', '..');
  const files = (process.env.PARROT_HOST_FILES ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter((f) => f.length > 0)
    .map((f) => path.resolve(root, f));
  if (files.length === 0) return Promise.reject(new Error('PARROT_HOST_FILES names no test file.'));
  const missing = files.filter((f) => !fs.existsSync(f));
  if (missing.length > 0) {
    return Promise.reject(new Error(`Not found (run \`npm run build\` first): ${missing.join(', ')}`));
  }
  teeToReport();
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 600_000, reporter: 'spec' });
  for (const f of files) mocha.addFile(f);
  return new Promise((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} test(s) failed`)) : resolve()));
  });
}

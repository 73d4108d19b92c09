// Loaded by VS Code's extension host (extensionTestsPath): runs every out/test/integration/**/*.test.js
// with mocha inside the real host and rejects when a test fails.
import * as fs from 'node:fs';
import * as path from 'node:path';
import Mocha from 'mocha';

function testFiles(dir: string): string[] {
  const files: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) files.push(...testFiles(p));
    else if (entry.name.endsWith('.test.js')) files.push(p);
  }
  return files.sort();
}

export function run(): Promise<void> {
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const files = testFiles(__dirname);
  for (const file of files) mocha.addFile(file);
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, pending = 0 } = runner.stats ?? {};
        console.log(
          `integration: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`,
        );
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else if (passes === 0) reject(new Error(`No integration test ran (files: ${files.length})`));
        else resolve();
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

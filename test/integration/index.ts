// Loaded by VS Code's extension host (extensionTestsPath): runs every out/test/integration/**/*.test.js
// with mocha inside the real host and rejects when a test fails.
import * as fs from 'node:fs';
import { format } from 'node:util';
import Mocha from 'mocha';
import { testFiles } from '../runner/testFiles';
import { report } from './support/report';

/**
 * When the runner names a file in PARROT_TEST_OUTPUT, mocha's report and the tests' console output are
 * also appended there: the runner streams that file, free of the workbench's own log lines.
 */
function teeConsole(): () => void {
  const file = process.env.PARROT_TEST_OUTPUT;
  if (!file) return () => undefined;
  const base = Mocha.reporters.Base as unknown as { consoleLog: (...args: unknown[]) => void };
  const saved = {
    log: console.log,
    error: console.error,
    warn: console.warn,
    info: console.info,
    base: base.consoleLog,
  };
  const tee =
    (orig: (...args: unknown[]) => void) =>
    (...args: unknown[]) => {
      fs.appendFileSync(file, format(...args) + '\n');
      orig(...args);
    };
  console.log = tee(saved.log);
  console.info = tee(saved.info);
  console.warn = tee(saved.warn);
  console.error = tee(saved.error);
  base.consoleLog = tee(saved.base);
  return () => {
    Object.assign(console, { log: saved.log, error: saved.error, warn: saved.warn, info: saved.info });
    base.consoleLog = saved.base;
  };
}

export function run(): Promise<void> {
  const restore = teeConsole();
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  const files = testFiles(__dirname);
  for (const file of files) mocha.addFile(file);
  return new Promise((resolve, reject) => {
    try {
      const runner = mocha.run((failures) => {
        const { passes = 0, pending = 0 } = runner.stats ?? {};
        report(`integration: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
        if (failures > 0) reject(new Error(`${failures} integration test(s) failed`));
        else if (passes === 0) reject(new Error(`No integration test ran (files: ${files.length})`));
        else resolve();
      });
    } catch (err) {
      restore();
      reject(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

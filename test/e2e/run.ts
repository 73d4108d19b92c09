// Runs every out/test/e2e/**/*.test.js with mocha in Node; the tests drive the real VS Code workbench
// through test/e2e/support/workbench.ts. Usage: node out/test/e2e/run.js [filter]
// Environment: PARROT_E2E_TIMEOUT_MS (whole run, default 600000), CHROME_PATH, PARROT_TEST_VERBOSE=1.
import * as path from 'node:path';
import Mocha from 'mocha';
import { envMs, installSignalHandlers, repoRoot, runCleanups } from '../runner/codeserver';
import { testFiles } from '../runner/testFiles';
import { screenshot, stopWorkbench } from './support/workbench';

async function main(): Promise<number> {
  installSignalHandlers();
  const timeoutMs = envMs('PARROT_E2E_TIMEOUT_MS', 10 * 60_000);
  const root = repoRoot();
  const filter = process.argv[2];
  const files = testFiles(__dirname).filter((f) => !filter || f.includes(filter));
  if (files.length === 0) {
    console.error(
      `No e2e test file found under ${path.relative(root, __dirname)}: run \`npm run build\` first.`,
    );
    return 1;
  }
  const mocha = new Mocha({ ui: 'bdd', timeout: 120_000, reporter: 'spec' });
  for (const f of files) mocha.addFile(f);
  // Each failing test leaves a screenshot of the workbench behind.
  mocha.rootHooks({
    async afterEach(this: Mocha.Context) {
      if (this.currentTest?.state === 'failed') {
        const shot = await screenshot(`failed-${this.currentTest.fullTitle()}`).catch(() => undefined);
        if (shot) console.error(`    screenshot: ${path.relative(root, shot)}`);
      }
    },
  });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const done = new Promise<{ failures: number; passes: number; pending: number }>((resolve) => {
    const runner = mocha.run((failures) =>
      resolve({ failures, passes: runner.stats?.passes ?? 0, pending: runner.stats?.pending ?? 0 }),
    );
  });
  const outcome = await Promise.race([done, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    const shot = await screenshot('e2e-timeout').catch(() => undefined);
    console.error(
      `\nE2E tests did not finish within ${Math.round(timeoutMs / 1000)} s (PARROT_E2E_TIMEOUT_MS).` +
        (shot ? ` Screenshot: ${path.relative(root, shot)}` : ''),
    );
    return 1;
  }
  const { failures, passes, pending } = outcome;
  console.log(`e2e: ${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
  return failures > 0 || passes === 0 ? 1 : 0;
}

void main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    return 1;
  })
  .then(async (code) => {
    await stopWorkbench().catch(() => undefined);
    await runCleanups();
    process.exit(code);
  });

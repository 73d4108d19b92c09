// Runs out/test/integration/index.js inside a real VS Code extension host (code-server + headless
// Chromium) and exits with the suite's result. Usage: node out/test/runner/integration.js
// Environment: PARROT_TEST_TIMEOUT_MS (default 600000), CHROME_PATH, PARROT_TEST_VERBOSE=1,
// PARROT_TEST_INDEX (another tests index, relative to the repository root; default the whole suite).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { format } from 'node:util';
import {
  SAMPLE_DATASETS,
  devPayload,
  ensureCodeServer,
  envMs,
  installSignalHandlers,
  launchChromium,
  onCleanup,
  repoRoot,
  runCleanups,
  fixtureDatasetsDir,
  startCodeServer,
  tempWorkspace,
} from './codeserver';

async function main(): Promise<number> {
  installSignalHandlers();
  const timeoutMs = envMs('PARROT_TEST_TIMEOUT_MS', 10 * 60_000);
  const started = Date.now();
  const root = repoRoot();
  const testsIndex = process.env.PARROT_TEST_INDEX
    ? path.resolve(root, process.env.PARROT_TEST_INDEX)
    : path.join(root, 'out', 'test', 'integration', 'index.js');
  if (!fs.existsSync(testsIndex)) {
    console.error(`${path.relative(root, testsIndex)} not found: run \`npm run build\` first.`);
    return 1;
  }

  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });

  const install = ensureCodeServer(root);
  const datasets = fixtureDatasetsDir(root);
  const workspace = tempWorkspace(
    'parrot-integration',
    SAMPLE_DATASETS.map((f) => path.join(datasets, f)),
  );
  // The tests' report goes to a file that is streamed here; the workbench's own log goes to another.
  const artifacts = path.join(root, 'test-artifacts');
  fs.mkdirSync(artifacts, { recursive: true });
  const report = path.join(workspace, '..', `${path.basename(workspace)}-report.txt`);
  fs.writeFileSync(report, '');
  onCleanup(() => Promise.resolve(fs.rmSync(report, { force: true })));
  const workbenchLog = path.join(artifacts, 'integration-workbench.log');
  fs.writeFileSync(workbenchLog, '');
  const verbose = process.env.PARROT_TEST_VERBOSE === '1';
  let offset = 0;
  const pump = () => {
    const fd = fs.openSync(report, 'r');
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = fs.readSync(fd, buf, 0, buf.length, offset);
        if (n <= 0) break;
        offset += n;
        process.stdout.write(buf.subarray(0, n));
      }
    } finally {
      fs.closeSync(fd);
    }
  };
  const pumper = setInterval(pump, 200);
  onCleanup(() => Promise.resolve(clearInterval(pumper)));

  const server = await startCodeServer({
    install,
    smokeTestDriver: true,
    env: { PARROT_TEST_WORKSPACE: workspace, PARROT_REPO_ROOT: root, PARROT_TEST_OUTPUT: report },
  });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });

  let resolveExit: (code: number) => void = () => undefined;
  const exit = new Promise<number>((resolve) => (resolveExit = resolve));
  await page.exposeFunction('codeAutomationLog', (type: string, args: unknown[]) => {
    const line = format(...(Array.isArray(args) ? args : [args]));
    fs.appendFileSync(workbenchLog, `[${type}] ${line}\n`);
    if (verbose) process.stderr.write(`[workbench ${type}] ${line}\n`);
  });
  await page.exposeFunction('codeAutomationExit', (code: number) => {
    resolveExit(code);
  });
  if (verbose) {
    page.on('console', (m) => console.error(`[browser ${m.type()}] ${m.text()}`));
  }

  await page.goto(server.url(workspace, devPayload(root, testsIndex)));
  const outcome = await Promise.race([
    exit,
    timedOut,
    server.exited.then((c) => `server-exit:${c}` as const),
  ]);
  clearTimeout(timer);
  clearInterval(pumper);
  pump();

  if (outcome === 'timeout') {
    const shot = path.join(artifacts, 'integration-timeout.png');
    await page.screenshot({ path: shot }).catch(() => undefined);
    console.error(
      `\nIntegration tests did not finish within ${Math.round(timeoutMs / 1000)} s ` +
        `(PARROT_TEST_TIMEOUT_MS): the workbench hung or never started the tests.\n` +
        `Screenshot: ${path.relative(root, shot)}; workbench log: ${path.relative(root, workbenchLog)}\n` +
        `Last lines of code-server's log:\n${server.logTail()}`,
    );
    return 1;
  }
  if (typeof outcome === 'string') {
    console.error(
      `\ncode-server exited unexpectedly (${outcome}). Last lines of its log:\n${server.logTail()}`,
    );
    return 1;
  }
  console.log(
    `Integration tests ${outcome === 0 ? 'passed' : 'FAILED'} in VS Code (code-server ${install.version}) ` +
      `in ${((Date.now() - started) / 1000).toFixed(1)} s.`,
  );
  return outcome === 0 ? 0 : 1;
}

void main()
  .catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    return 1;
  })
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  });

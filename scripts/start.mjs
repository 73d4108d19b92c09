// `npm start`: builds, packages, and opens VS Code with Parrot Studio and the examples/ folder.
// - Desktop `code` on PATH: opens it with the extension loaded from this folder.
// - Otherwise: code-server (installed once into .vscode-test/) on 127.0.0.1 with the .vsix installed;
//   prints the URL to open and runs until Ctrl-C. PORT=<n> picks the port. The profile has auto-save
//   off and opens VS Code's Welcome page, where the Parrot Studio walkthrough is offered.
// PARROT_START_SMOKE=1 (CI) stops as soon as the workbench page loads.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const examples = join(root, 'examples');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const vsix = join(root, `${pkg.name}-${pkg.version}.vsix`);
const node = (args) => execFileSync(process.execPath, args, { cwd: root, stdio: 'inherit' });

// Development build (also bundles the code-server helpers under out/), then the production .vsix.
node([join(root, 'scripts', 'build.mjs')]);
node([join(root, 'scripts', 'package.mjs'), '--out', vsix]);

const hasCode = spawnSync('code', ['--version'], { stdio: 'ignore' }).status === 0;
if (hasCode && !process.env.PARROT_START_CODE_SERVER) {
  console.log('Opening VS Code with the extension from this folder and examples/ …');
  const res = spawnSync('code', ['--new-window', `--extensionDevelopmentPath=${root}`, examples], {
    stdio: 'inherit',
  });
  process.exit(res.status ?? 1);
}

const require = createRequire(import.meta.url);
const cs = require(join(root, 'out', 'test', 'runner', 'codeserver.js'));
cs.installSignalHandlers();
try {
  const install = cs.ensureCodeServer(root);
  const server = await cs.startCodeServer({
    install,
    vsix: [vsix],
    settings: cs.START_SETTINGS,
    port: process.env.PORT ? Number(process.env.PORT) : undefined,
  });
  console.log(
    `\nParrot Studio is running in VS Code (code-server ${install.version}). Open:\n\n  ${server.url(examples)}\n`,
  );
  if (process.env.PARROT_START_SMOKE === '1') {
    // CI: the README's first command on a fresh clone, up to a served workbench, then stop.
    const res = await globalThis.fetch(server.url(examples));
    const html = await res.text();
    await cs.runCleanups();
    if (res.status !== 200 || !html.includes('workbench')) {
      console.error(`The workbench did not load (HTTP ${res.status}).`);
      process.exit(1);
    }
    console.log('npm start: the workbench loads (PARROT_START_SMOKE=1: stopping).');
    process.exit(0);
  }
  console.log('Press Ctrl-C to stop.');
  const code = await server.exited;
  if (cs.stopping()) await new Promise(() => {}); // Ctrl-C: the signal handler cleans up and exits
  console.error(`code-server stopped (exit ${code}). Last lines of its log:\n${server.logTail()}`);
  await cs.runCleanups();
  process.exit(1);
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  await cs.runCleanups();
  process.exit(1);
}

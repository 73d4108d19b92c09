// Runs before `npm test` and `npm start` (pretest / prestart), so that they work as the first
// commands on a fresh clone:
// 1. the system packages the real-VS-Code host needs: Debian's `chromium` (tests drive the workbench
//    with it) and `libkrb5-dev` (code-server builds its `kerberos` module the first time). As root on
//    Debian they are installed with apt-get; otherwise the run stops at once with the command to run.
// 2. `npm ci` when node_modules is missing or older than package-lock.json.
// Usage: node scripts/ensure-deps.mjs [test|start]   (default: test). PARROT_SKIP_SYSTEM_DEPS=1 skips 1.
import { execFileSync, execSync, spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const job = process.argv[2] === 'start' ? 'start' : 'test';

/** Debian packages this job still needs, with what tells that each is there. */
function missingSystemPackages() {
  const missing = [];
  const chromium = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].some(
    (p) => p && existsSync(p),
  );
  // `npm start` opens the workbench in the user's own browser: only the tests drive Chromium.
  if (job === 'test' && !chromium) missing.push('chromium');
  // Needed only to build code-server once; desktop `code` (npm start) does not need it.
  const usesCodeServer =
    job === 'test' ||
    process.env.PARROT_START_CODE_SERVER ||
    spawnSync('code', ['--version'], { stdio: 'ignore' }).status !== 0;
  if (usesCodeServer && !existsSync('/usr/include/gssapi/gssapi.h')) missing.push('libkrb5-dev');
  return missing;
}

function ensureSystemPackages() {
  if (process.env.PARROT_SKIP_SYSTEM_DEPS === '1') return;
  const missing = missingSystemPackages();
  if (missing.length === 0) return;
  const command = `apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  const hasApt = spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!hasApt || !isRoot) {
    const how = hasApt
      ? `sudo apt-get update && sudo ${command}`
      : `install ${missing.join(' and ')} with your system's package manager (Chromium may also be named by CHROME_PATH)`;
    console.error(`npm ${job} needs ${missing.join(' and ')}, which this machine lacks. Run:\n\n  ${how}\n`);
    process.exit(1);
  }
  console.log(`Installing ${missing.join(', ')} (apt-get, once)…`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  execFileSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {
    stdio: 'inherit',
    env,
  });
  const still = missingSystemPackages();
  if (still.length > 0) {
    console.error(`apt-get finished, but ${still.join(' and ')} is still missing.`);
    process.exit(1);
  }
}

function ensureNodeModules() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
    console.log('Installing dependencies (npm ci)…');
    execSync('npm ci --no-audit --no-fund', { cwd: root, stdio: 'inherit' });
  }
}

ensureSystemPackages();
ensureNodeModules();

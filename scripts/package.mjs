// Builds the production bundle and packages the extension as a .vsix, then checks what it ships.
// Usage: node scripts/package.mjs [--out FILE]   (default: parrot-studio-<version>.vsix at the repo root)
// The work happens in a temporary copy of the repository (sources, tests and all, so that
// .vscodeignore is what keeps them out), so the development build in dist/ is never replaced while
// tests or an editor use it.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVsix, listZip } from './package-check.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

// Build output, caches and installs are not copied (node_modules is linked for the build).
const NOT_COPIED = new Set([
  '.git',
  'node_modules',
  'dist',
  'out',
  '.vscode-test',
  'test-artifacts',
  'bench-data',
]);
const stage = mkdtempSync(join(tmpdir(), 'parrot-package-'));
try {
  cpSync(root, stage, {
    recursive: true,
    filter: (src) => {
      const top = relative(root, src).split(sep)[0];
      return !NOT_COPIED.has(top) && !top.endsWith('.vsix');
    },
  });
  symlinkSync(join(root, 'node_modules'), join(stage, 'node_modules'), 'dir');
  execFileSync(process.execPath, [join(stage, 'scripts', 'build.mjs'), '--production'], {
    cwd: stage,
    stdio: 'inherit',
  });
  // Everything the extension needs is bundled into dist/, so node_modules is not shipped.
  execFileSync(
    process.execPath,
    [
      join(root, 'node_modules', '@vscode', 'vsce', 'vsce'),
      'package',
      '--no-dependencies',
      '--allow-missing-repository',
      // README images are shipped (docs/images) and resolved next to the installed extension.
      '--no-rewrite-relative-links',
      '--out',
      out,
    ],
    { cwd: stage, stdio: ['ignore', 'inherit', 'inherit'] },
  );
} finally {
  rmSync(stage, { recursive: true, force: true });
}

const entries = listZip(readFileSync(out));
const problems = checkVsix(entries, statSync(out).size);
if (problems.length) {
  console.error(`${out} ships files it must not:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${out}: ${entries.length} files, ${(statSync(out).size / 1024).toFixed(0)} KiB`);

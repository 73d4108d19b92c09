// Builds the production bundle and packages the extension as a .vsix, then checks what it ships.
// Usage: node scripts/package.mjs [--out FILE]   (default: parrot-studio-<version>.vsix at the repo root)
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkVsix, listZip } from './package-check.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outArg = process.argv.indexOf('--out');
const out = resolve(outArg > 0 ? process.argv[outArg + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--production'], {
  cwd: root,
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
  { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
);

const entries = listZip(readFileSync(out));
const problems = checkVsix(entries, statSync(out).size);
if (problems.length) {
  console.error(`${out} ships files it must not:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${out}: ${entries.length} files, ${(statSync(out).size / 1024).toFixed(0)} KiB`);

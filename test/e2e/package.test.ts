import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { repoRoot, rmrf } from '../runner/codeserver';

interface PackageCheck {
  MAX_VSIX_BYTES: number;
  listZip(buf: Buffer): string[];
  checkVsix(entries: string[], size: number): string[];
}

describe('packaging', () => {
  const root = repoRoot();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-vsix-'));
  after(() => rmrf(tmp));

  it('builds a .vsix that ships only the bundle, manifest, docs and schemas', async function () {
    this.timeout(180_000);
    const out = path.join(tmp, 'parrot-studio.vsix');
    execFileSync(process.execPath, [path.join(root, 'scripts', 'package.mjs'), '--out', out], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const check = (await import(path.join(root, 'scripts', 'package-check.mjs'))) as PackageCheck;
    const size = fs.statSync(out).size;
    const entries = check.listZip(fs.readFileSync(out));
    assert.ok(size < check.MAX_VSIX_BYTES, `vsix is ${size} bytes`);
    assert.deepEqual(check.checkVsix(entries, size), []);
    const shipped = entries
      .filter((e) => e.startsWith('extension/'))
      .map((e) => e.slice('extension/'.length));
    for (const e of shipped) {
      assert.match(
        e,
        /^(package\.json|package\.nls(\.[\w-]+)?\.json|readme\.md|README\.md|LICENSE\.txt|CHANGELOG\.md|changelog\.md|dist\/[\w.-]+\.(js|css|ttf|json)|schemas\/[\w.-]+\.json|prompts\/[\w.-]+\.md|docs\/images\/[\w.-]+\.png|media\/.+)$/,
        `unexpected file in the vsix: ${e}`,
      );
    }
    assert.ok(shipped.includes('dist/extension.js'));
    console.log(`      ${entries.length} entries, ${(size / 1024).toFixed(0)} KiB`);
  });
});

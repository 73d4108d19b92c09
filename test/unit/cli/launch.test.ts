// dist/cli.js runs the CLI bundle from V8's code cache: written once in the user's cache directory
// (readable by the user only), used as it is by the next runs, replaced when V8 rejects it; the
// output is the same with it, without it, and with a broken one.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { datasetsIn } from '../../support/fixtures';

const ROOT = path.resolve(__dirname, '..', '..', '..', '..');
const CLI = path.join(ROOT, 'dist', 'cli.js');

describe('cli: the code cache of the launcher', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'ps-launch-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const run = (env: Record<string, string>, args: string[]): string => {
    const r = spawnSync(process.execPath, [CLI, ...args], {
      cwd: datasetsIn(ROOT),
      encoding: 'utf8',
      env: { ...process.env, ...env },
    });
    return `${r.status}\n${r.stdout}\n${r.stderr}`;
  };

  it('writes the cache once, uses it, replaces a broken one, and prints the same either way', () => {
    const file = readdirSync(datasetsIn(ROOT)).filter((f) => f.endsWith('.jsonl'))[0];
    const args = ['validate', file];
    const plain = run({ PARROT_CLI_CACHE: '0', XDG_CACHE_HOME: dir }, args);
    assert.deepEqual(readdirSync(dir), [], 'PARROT_CLI_CACHE=0 writes no cache');
    const cacheDir = path.join(dir, 'parrot-studio');
    mkdirSync(cacheDir, { mode: 0o700 });
    writeFileSync(path.join(cacheDir, 'cli-v0.0.0-x64-1-1.v8cache'), 'an earlier build');

    assert.equal(run({ XDG_CACHE_HOME: dir }, args), plain);
    const caches = readdirSync(cacheDir);
    assert.equal(caches.length, 1, `one cache, the earlier one removed: ${caches.join(', ')}`);
    const cache = path.join(cacheDir, caches[0]);
    assert.match(caches[0], new RegExp(`^cli-${process.version}-${process.arch}-\\d+-\\d+\\.v8cache$`));
    if (process.platform !== 'win32') assert.equal(statSync(cache).mode & 0o777, 0o600);
    const written = readFileSync(cache);
    assert.ok(written.length > 10_000);

    // Accepted: not written again.
    const before = statSync(cache).mtimeMs;
    assert.equal(run({ XDG_CACHE_HOME: dir }, args), plain);
    assert.equal(statSync(cache).mtimeMs, before);
    assert.equal(
      run({ XDG_CACHE_HOME: dir }, ['stats', '--no-tokens', file]),
      run({ PARROT_CLI_CACHE: '0' }, ['stats', '--no-tokens', file]),
    );

    // A broken cache is rejected by V8 and replaced.
    writeFileSync(cache, Buffer.alloc(written.length, 7));
    assert.equal(run({ XDG_CACHE_HOME: dir }, args), plain);
    assert.ok(!readFileSync(cache).equals(Buffer.alloc(written.length, 7)), 'the broken cache is replaced');
  });
});

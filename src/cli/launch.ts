/**
 * The `parrot` command's entry (dist/cli.js): runs the CLI bundle (dist/cli-main.js) from V8's code
 * cache when there is one, so that a run does not spend ~20 ms compiling 1 MB of JavaScript before
 * it reads its first record (Node 20 has no `module.enableCompileCache`; this is what it does).
 *
 * The cache is one file per bundle build (named by the bundle's size and modification time and
 * Node's version: V8 itself only checks the source's length) in the user's cache directory
 * (`$XDG_CACHE_HOME/parrot-studio`, `~/.cache/parrot-studio`, `%LOCALAPPDATA%\parrot-studio`),
 * created readable by the user only. It is written once, when the process exits after a run without
 * a usable cache, and holds the functions that run compiled. V8 rejects a cache made by another
 * version or with other flags; then the bundle is compiled as usual and the cache written again.
 * `PARROT_CLI_CACHE=0` runs without it. Any failure to read or write it only costs the compile.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';

const MAIN = join(__dirname, 'cli-main.js');

function cacheDir(): string | undefined {
  const env = process.env;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'parrot-studio');
  if (process.platform === 'win32')
    return env.LOCALAPPDATA ? join(env.LOCALAPPDATA, 'parrot-studio') : undefined;
  const home = homedir();
  if (!home) return undefined;
  return process.platform === 'darwin'
    ? join(home, 'Library', 'Caches', 'parrot-studio')
    : join(home, '.cache', 'parrot-studio');
}

function run(): void {
  let source = readFileSync(MAIN, 'utf8');
  // The bundle's `#!` line is not JavaScript (Node strips it from a file it loads itself).
  if (source.startsWith('#!')) source = '//' + source.slice(2);
  const dir = process.env.PARROT_CLI_CACHE === '0' ? undefined : cacheDir();
  let cacheFile: string | undefined;
  let cached: Buffer | undefined;
  if (dir) {
    try {
      const st = statSync(MAIN);
      cacheFile = join(
        dir,
        `cli-${process.version}-${process.arch}-${st.size}-${Math.floor(st.mtimeMs)}.v8cache`,
      );
      cached = readFileSync(cacheFile);
    } catch {
      cached = undefined;
    }
  }
  const script = new Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: MAIN,
    ...(cached ? { cachedData: cached } : {}),
  });
  if (cacheFile && (!cached || script.cachedDataRejected === true)) {
    const file = cacheFile;
    process.once('exit', () => writeCache(script, file));
  }
  const wrapper = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: object },
    filename: string,
    dirname: string,
  ) => void;
  const module = { exports: {} };
  wrapper.call(module.exports, module.exports, createRequire(MAIN), module, MAIN, __dirname);
}

function writeCache(script: Script, file: string): void {
  try {
    const dir = join(file, '..');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, script.createCachedData(), { mode: 0o600 });
    renameSync(tmp, file);
    // The caches of earlier builds are of no more use.
    const name = file.slice(dir.length + 1);
    for (const f of readdirSync(dir))
      if (f !== name && f.startsWith('cli-') && f.endsWith('.v8cache')) rmSync(join(dir, f), { force: true });
  } catch {
    // Without a cache, the next run compiles the bundle again: nothing else changes.
  }
}

run();

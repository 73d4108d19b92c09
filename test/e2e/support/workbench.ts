// Reusable helpers for UI tests against the real VS Code workbench (code-server + headless Chromium).
// Every test file is bundled on its own, so the one shared workbench lives on globalThis: the first
// startWorkbench() starts it, later calls (from any test file) get the same one, and the e2e runner
// (test/e2e/run.ts) stops it when all tests are done.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  type CodeServer,
  devPayload,
  ensureCodeServer,
  installSignalHandlers,
  launchChromium,
  repoRoot,
  startCodeServer,
  tempWorkspace,
} from '../../runner/codeserver';

export interface Workbench {
  page: Page;
  browser: Browser;
  server: CodeServer;
  /** The opened folder: a temp copy of examples/ (tests may edit and save files there). */
  workspace: string;
  root: string;
}

const KEY = Symbol.for('parrot-studio.e2e.workbench');
type Slot = { [KEY]?: Promise<Workbench> };
const slot = globalThis as Slot;

/** Starts (once per run) code-server with this extension loaded from the repo and a copy of examples/ open. */
export function startWorkbench(): Promise<Workbench> {
  slot[KEY] ??= launch();
  return slot[KEY];
}

/** Stops the shared workbench, if one was started. */
export async function stopWorkbench(): Promise<void> {
  const pending = slot[KEY];
  delete slot[KEY];
  if (!pending) return;
  const wb = await pending.catch(() => undefined);
  if (!wb) return;
  await wb.browser.close().catch(() => undefined);
  await wb.server.stop();
}

async function launch(): Promise<Workbench> {
  installSignalHandlers();
  const root = repoRoot();
  const install = ensureCodeServer(root);
  const workspace = tempWorkspace('parrot-e2e', [path.join(root, 'examples')]);
  const server = await startCodeServer({ install, smokeTestDriver: true });
  const browser = await launchChromium();
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(server.url(workspace, devPayload(root)));
  // The workbench is ready when the explorer shows the folder's files.
  await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
  await page.locator('.explorer-folders-view .monaco-list-row').first().waitFor({ timeout: 60_000 });
  return { page, browser, server, workspace, root };
}

async function current(): Promise<Workbench> {
  return startWorkbench();
}

/** Focuses the workbench and opens the quick input with `prefix` typed in (">" = commands, "" = files). */
async function quickInput(text: string): Promise<Page> {
  const { page } = await current();
  await page
    .locator('.monaco-workbench')
    .click({ position: { x: 5, y: 5 }, force: true })
    .catch(() => undefined);
  const widget = page.locator('.quick-input-widget');
  await page.keyboard.press('F1');
  await widget.waitFor({ state: 'visible', timeout: 15_000 });
  const input = widget.locator('input.input');
  await input.fill(text);
  return page;
}

/** Runs a command through the command palette by its visible title, e.g. "Parrot: Show Log". */
export async function runCommand(title: string): Promise<void> {
  const page = await quickInput(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ state: 'visible', timeout: 15_000 });
  await row.click();
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
}

/**
 * Opens a workspace file by name through Quick Open and waits for its editor tab. Files created during
 * the run may take a moment to reach Quick Open's index, so the search is retried until `timeoutMs`.
 */
export async function openFile(name: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const page = await quickInput(name);
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
    try {
      await row.waitFor({ state: 'visible', timeout: 3_000 });
    } catch (err) {
      await page.keyboard.press('Escape');
      if (Date.now() > deadline) throw new Error(`Quick Open does not list ${name}`, { cause: err });
      continue;
    }
    await row.click();
    await page.locator('.quick-input-widget').waitFor({ state: 'hidden', timeout: 15_000 });
    await page.locator(`.tabs-container .tab[data-resource-name="${name}"]`).waitFor({ timeout: 30_000 });
    return;
  }
}

/**
 * The frame of a webview (custom editor or view) containing `selector`. Webview content lives in a
 * nested `iframe#active-frame` inside the webview host frame, so this searches all of page.frames().
 */
export async function findWebviewFrame(selector: string, timeoutMs = 30_000): Promise<Frame> {
  const { page } = await current();
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const frame of page.frames()) {
      if (frame === page.mainFrame()) continue;
      const found = await frame
        .locator(selector)
        .count()
        .catch(() => 0);
      if (found > 0) return frame;
    }
    if (Date.now() > deadline) {
      const urls = page
        .frames()
        .map((f) => f.url())
        .join('\n  ');
      throw new Error(`No webview frame contains ${selector} after ${timeoutMs} ms. Frames:\n  ${urls}`);
    }
    await page.waitForTimeout(200);
  }
}

/** Saves a full-window screenshot to test-artifacts/<name>.png and returns its path. */
export async function screenshot(name: string): Promise<string> {
  const { page, root } = await current();
  const file = path.join(root, 'test-artifacts', `${name.replace(/[^\w.-]+/g, '-')}.png`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await page.screenshot({ path: file });
  return file;
}

/** The text shown in the Output panel's editor (after a channel was shown). */
export async function outputText(): Promise<string> {
  const { page } = await current();
  const lines = page.locator('.part.panel .view-lines');
  await lines.first().waitFor({ state: 'visible', timeout: 15_000 });
  return (await lines.first().innerText()).replace(/\u00a0/g, ' ');
}

/**
 * Dialogue editor benchmark on a 1.4 GB file (PARROT_BENCH_BYTES), in two parts:
 *  1. the real VS Code extension host, through the integration runner with bench/host.ts as the tests
 *     index running bench/editor.host.ts: first page (1.4 GB vs 1 MB), jumps (end / anywhere vs the
 *     first 1 %), extension-host RSS, save after one edit vs a plain copy;
 *  2. the real workbench in Chromium (test/e2e/support/workbench.ts): how many row elements the
 *     webview's virtual list holds for the whole file, at the top and after End.
 * Usage: npm run bench:editor   (`-- --host-only` / `-- --dom-only` run one part)
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { runCleanups } from '../test/runner/codeserver';
import {
  findWebviewFrame,
  openFile,
  runCommand,
  startWorkbench,
  stopWorkbench,
} from '../test/e2e/support/workbench';
import { writeSynthDataset } from './largeSynth';

const root = path.resolve(__dirname, '..', '..');

function hostPart(bytes: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(root, 'out', 'test', 'runner', 'integration.js')], {
      stdio: 'inherit',
      env: {
        ...process.env,
        PARROT_TEST_INDEX: 'out/bench/host.js',
        PARROT_HOST_FILES: 'out/bench/editor.host.js',
        PARROT_BENCH_BYTES: String(bytes),
        PARROT_TEST_TIMEOUT_MS: process.env.PARROT_TEST_TIMEOUT_MS ?? String(30 * 60_000),
      },
    });
    child.on('exit', (code) => resolve(code ?? 1));
  });
}

interface DomCount {
  rows: number;
  shown: number;
  filled: number;
  lastPos: number;
  heapMB: number | undefined;
}

/** Runs in the webview: the virtual list's row elements (shown = not hidden, filled = with a title). */
const COUNT_ROWS = `(() => {
  const rows = [...document.querySelectorAll('.vrow')];
  const shown = rows.filter((r) => !r.hidden);
  const pos = shown.map((r) => Number(r.getAttribute('aria-posinset') || 0));
  const mem = performance.memory;
  return {
    rows: rows.length,
    shown: shown.length,
    filled: shown.filter((r) => (r.querySelector('.vrow-title')?.textContent || '').length > 0).length,
    lastPos: Math.max(0, ...pos),
    heapMB: mem ? mem.usedJSHeapSize / 1048576 : undefined,
  };
})()`;

async function domPart(bytes: number): Promise<void> {
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'parrot-editor-dom-'));
  try {
    const t0 = performance.now();
    const file = await writeSynthDataset(path.join(dir, 'large-bench.jsonl'), bytes, 7);
    console.log(
      `DOM part: ${(file.bytes / 1e9).toFixed(2)} GB, ${file.lines.toLocaleString('en')} records (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    const wb = await startWorkbench();
    const name = 'large-bench.jsonl';
    const target = path.join(wb.workspace, name);
    try {
      fs.linkSync(file.path, target);
    } catch {
      fs.symlinkSync(file.path, target);
    }
    // Quick Open shows the text editor's "file is very large" notice (the file is never loaded as
    // text); the command then reopens the active tab in the dialogue editor.
    await openFile(name, 60_000);
    await runCommand('Parrot: Open in Dialogue Editor');
    const frame = await findWebviewFrame('.vrow .vrow-title:not(:empty)', 60_000);
    const top = await frame.evaluate<DomCount>(COUNT_ROWS);
    await frame.locator('.vrow').first().click();
    await frame.locator('.vlist').press('End');
    // Strings, not functions: this file is type-checked without DOM types.
    await frame.waitForFunction(
      `[...document.querySelectorAll('.vrow')].some((r) => r.getAttribute('aria-posinset') === '${file.lines}')`,
      undefined,
      { timeout: 30_000 },
    );
    await frame.waitForFunction(
      `[...document.querySelectorAll('.vrow:not([hidden]) .vrow-title')].every((t) => t.textContent)`,
      undefined,
      { timeout: 30_000 },
    );
    const end = await frame.evaluate<DomCount>(COUNT_ROWS);
    const heap = (c: DomCount) => (c.heapMB === undefined ? 'n/a' : `${c.heapMB.toFixed(1)} MB`);
    console.log(
      `webview DOM: ${top.rows} row elements for ${file.lines.toLocaleString('en')} records at the top (${top.shown} shown, ${top.filled} filled); ` +
        `${end.rows} after End (${end.shown} shown, last record ${end.lastPos.toLocaleString('en')}); ` +
        `webview JS heap ${heap(top)} at the top, ${heap(end)} after End; load average ${loadavg()[0]?.toFixed(1)}`,
    );
  } finally {
    await stopWorkbench();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const bytes = Number(process.env.PARROT_BENCH_BYTES ?? 1.4e9);
  const args = process.argv.slice(2);
  let code = 0;
  if (!args.includes('--dom-only')) code = await hostPart(bytes);
  if (!args.includes('--host-only')) await domPart(bytes);
  return code;
}

void main()
  .catch((err: unknown) => {
    console.error(err);
    return 1;
  })
  .then(async (code) => {
    await runCleanups();
    process.exit(code);
  });

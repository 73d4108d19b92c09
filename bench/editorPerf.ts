/**
 * Large-file measurements of the dialogue editor inside the real VS Code extension host, shared by
 * the integration test (test/integration/large.test.ts, 1 GiB) and the benchmark
 * (bench/editor.bench.ts, 1.4 GB): first page of records in the webview for a large and a small file
 * of the same generator, jumps once indexed, extension-host RSS, and save after one edit against a
 * plain copy. Everything goes through the extension's exported `editor` API: the messages the host
 * posts to the webview, and messages handled as if the webview had sent them.
 */
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import { rm } from 'node:fs/promises';
import { loadavg } from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import * as vscode from 'vscode';
import type { ParrotApi } from '../src/extension/extension';
import type { HostMessage, RecordView } from '../src/protocol';
import { waitForPost as waitForWebviewPost } from '../test/integration/support/webview';
import { mulberry32 } from '../test/support/random';
import { dropFromPageCache, writeSynthDataset } from './largeSynth';

export const EXTENSION_ID = 'parrot-studio.parrot-studio';
const VIEW_TYPE = 'parrot.dialogueEditor';
/** Rows the webview asks for around a jump target (its viewport plus the overscan on both sides). */
const JUMP_WINDOW = 60;
const MB = 1024 * 1024;

type Msg<T extends HostMessage['type']> = Extract<HostMessage, { type: T }>;

export async function parrotApi(): Promise<ParrotApi> {
  const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
  if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
  return ext.activate();
}

/** Resolves with the first message posted to a webview of `uri` that satisfies `pred`. */
function waitForPost<T extends HostMessage>(
  api: ParrotApi,
  uri: vscode.Uri,
  pred: (m: HostMessage) => m is T,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  return waitForWebviewPost(api, uri, pred, what, timeoutMs);
}

const isRecord =
  (line: number, test: (r: RecordView) => boolean = () => true) =>
  (m: HostMessage): m is Msg<'record'> =>
    m.type === 'record' && m.record.line === line && test(m.record);

async function send(api: ParrotApi, uri: vscode.Uri, message: unknown): Promise<void> {
  if (!(await api.editor.sendFromWebview(uri, message))) {
    throw new Error(`message refused: ${JSON.stringify(message)}`);
  }
}

/** Closes every editor, discarding unsaved edits. */
export async function closeAllEditors(): Promise<void> {
  for (let i = 0; i < 30 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
}

export interface FirstPage {
  /** From `vscode.openWith` until the first `rows` message reached the webview. */
  firstPageMs: number;
  /** From `vscode.openWith` until record 1 (the selected dialogue) reached the webview. */
  firstRecordMs: number;
  /** Whether the document was still being indexed when the first page was posted. */
  indexingAtFirstPage: boolean;
  /** Records known when the first page was posted. */
  linesAtFirstPage: number;
  /** From `vscode.openWith` until the whole file was indexed. */
  indexedMs: number;
  lineCount: number;
}

/** Opens `uri` in the dialogue editor and times its first page, first record and full index. */
export async function openAndTime(api: ParrotApi, uri: vscode.Uri): Promise<FirstPage> {
  let indexingAtFirstPage = false;
  let linesAtFirstPage = 0;
  const rows = waitForPost(
    api,
    uri,
    (m): m is Msg<'rows'> => {
      if (m.type !== 'rows' || m.rows.length === 0) return false;
      // Read while the message is being posted: the state the first page was taken from.
      const doc = api.editor.document(uri);
      indexingAtFirstPage = doc?.isIndexing ?? false;
      linesAtFirstPage = doc?.lineCount ?? 0;
      return true;
    },
    `the first page of ${path.basename(uri.fsPath)}`,
  );
  const record = waitForPost(api, uri, isRecord(0), `record 1 of ${path.basename(uri.fsPath)}`);
  const t0 = performance.now();
  const opened = vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, {
    viewColumn: vscode.ViewColumn.One,
    preview: false,
  });
  await rows;
  const firstPageMs = performance.now() - t0;
  await record;
  const firstRecordMs = performance.now() - t0;
  await opened;
  const doc = api.editor.document(uri);
  if (!doc) throw new Error(`no dialogue document for ${uri.fsPath}`);
  await doc.store.indexed;
  const indexedMs = performance.now() - t0;
  return {
    firstPageMs,
    firstRecordMs,
    indexingAtFirstPage,
    linesAtFirstPage,
    indexedMs,
    lineCount: doc.lineCount,
  };
}

/**
 * A jump as the webview makes it: the rows around `line`, then the record itself. Resolves with the
 * time until the record's content was posted.
 */
export async function jump(api: ParrotApi, uri: vscode.Uri, line: number): Promise<number> {
  const count = api.editor.documentState(uri)?.lineCount ?? 0;
  const from = Math.max(0, line - JUMP_WINDOW / 2);
  const lines: number[] = [];
  for (let l = from; l < Math.min(count, from + JUMP_WINDOW); l++) lines.push(l);
  const record = waitForPost(api, uri, isRecord(line), `record ${line + 1}`, 10_000);
  const rows = waitForPost(
    api,
    uri,
    (m): m is Msg<'rows'> => m.type === 'rows' && m.rows.some((r) => r.line === line),
    `the rows around record ${line + 1}`,
    10_000,
  );
  const t0 = performance.now();
  await Promise.all([
    send(api, uri, { type: 'requestRows', lines }),
    send(api, uri, { type: 'openRecord', line }),
  ]);
  await Promise.all([record, rows]);
  return performance.now() - t0;
}

export const median = (xs: number[]): number => {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
};

/** Memory of the extension host at one moment, in MiB. */
export interface MemorySample {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  /** Memory outside the JS heap held by JS objects (Buffers among it). */
  external: number;
  /** Linux: anonymous (malloc, heaps) and file-backed resident memory, from /proc/self/status. */
  rssAnon?: number;
  rssFile?: number;
}

function procStatus(): { rssAnon?: number; rssFile?: number } {
  try {
    const text = fs.readFileSync('/proc/self/status', 'utf8');
    const kb = (key: string) => {
      const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text);
      return m?.[1] !== undefined ? Number(m[1]) / 1024 : undefined;
    };
    return { rssAnon: kb('RssAnon'), rssFile: kb('RssFile') };
  } catch {
    return {};
  }
}

function memory(): MemorySample {
  const m = process.memoryUsage();
  return {
    rss: m.rss / MB,
    heapUsed: m.heapUsed / MB,
    heapTotal: m.heapTotal / MB,
    external: m.external / MB,
    ...procStatus(),
  };
}

/**
 * Samples the extension host's memory every 20 ms until stopped: the highest RSS overall and per
 * phase (the peak since the previous `mark`), with heap and external memory at each mark.
 */
export class MemorySampler {
  readonly before = memory();
  peak = this.before.rss;
  private phasePeak = this.before.rss;
  readonly phases: { name: string; peakRss: number; at: MemorySample }[] = [];
  private readonly timer = setInterval(() => this.sample(), 20);
  sample(): MemorySample {
    const m = memory();
    if (m.rss > this.peak) this.peak = m.rss;
    if (m.rss > this.phasePeak) this.phasePeak = m.rss;
    return m;
  }
  /** Ends a phase: its peak RSS and the memory at its end. */
  mark(name: string): void {
    const at = this.sample();
    this.phases.push({ name, peakRss: this.phasePeak, at });
    this.phasePeak = at.rss;
  }
  stop(): void {
    clearInterval(this.timer);
    this.sample();
  }
}

export interface SaveRound {
  /** fs.copyFile + fsync of the file just before the save. */
  copySyncMs: number;
  /** The same just after the save (of the saved file). */
  copySyncAfterMs: number;
  saveMs: number;
  loadAvg: number;
}

/** Copies `file` with fs.copyFile (then fsyncs the copy when `sync`); prints the time in ms. */
const COPY_SCRIPT = `
const { copyFile, open } = require('node:fs/promises');
const [src, dst, sync] = process.argv.slice(1);
(async () => {
  const t0 = performance.now();
  await copyFile(src, dst);
  if (sync === '1') { const fh = await open(dst, 'r+'); await fh.sync(); await fh.close(); }
  process.stdout.write(String(performance.now() - t0));
})().catch((e) => { console.error(e); process.exit(1); });
`;

/**
 * Times fs.copyFile of `file` in a child Node process (timed inside it, so the process start is not
 * counted, and whatever the copy costs in memory stays out of the extension host's figures).
 */
function timeCopy(file: string, target: string, sync: boolean): Promise<number> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', COPY_SCRIPT, file, target, sync ? '1' : '0'], (err, stdout) => {
      if (err) reject(new Error(`copying ${file} failed: ${err.message}`));
      else resolve(Number(stdout));
    });
  });
}

/**
 * Flushes every file system's dirty pages (`sync`), so that a timed write does not also pay for the
 * write-back of earlier ones (the generated files, the previous copy): each timed operation starts
 * from the same clean state.
 */
function syncDisks(): Promise<void> {
  return new Promise((resolve) => execFile('sync', () => resolve()));
}

/** fs.copyFile + fsync of `file` from a clean page-cache state, the copy removed. */
async function timeCopySync(file: string, target = `${file}.copy`): Promise<number> {
  try {
    await syncDisks();
    return await timeCopy(file, target, true);
  } finally {
    await rm(target, { force: true });
  }
}

/**
 * One edit (the first turn of record `line`, as the webview sends it), then a timed File: Save, with
 * the copies timed just before on the same file. Checks that the saved file holds the edited line.
 */
export async function editAndSave(
  api: ParrotApi,
  uri: vscode.Uri,
  line: number,
  token: string,
  mark: (phase: string) => void = () => undefined,
): Promise<SaveRound> {
  const text = `Edited: ${token}, "quoted", ünïcode — 🦜`;
  const shown = waitForPost(api, uri, isRecord(line), `record ${line + 1}`);
  await send(api, uri, { type: 'openRecord', line });
  const before = (await shown).record;
  if (!before.ok || before.kind !== 'dialogue') throw new Error(`record ${line + 1} is not a dialogue`);
  const doc = api.editor.document(uri);
  if (!doc) throw new Error(`no dialogue document for ${uri.fsPath}`);
  const oldLine = await doc.store.readLine(line);
  const edited = waitForPost(
    api,
    uri,
    isRecord(line, (r) => r.ok && r.turns[0]?.text === text),
    'the edit',
  );
  await send(api, uri, { type: 'editTurn', line, section: 'turns', turn: 0, text });
  await edited;
  const newLine = await doc.store.readLine(line);
  if (api.editor.documentState(uri)?.dirty !== true)
    throw new Error('the edit did not make the document dirty');
  const sizeBefore = fs.statSync(uri.fsPath).size;

  const loadAvg = loadavg()[0] ?? 0;
  mark('edit');
  // The baseline is timed just before and just after the save, each from a clean state (sync), so
  // that a slow or busy disk weighs on both alike.
  const copySyncMs = await timeCopySync(uri.fsPath);
  mark('copies');
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await syncDisks();
  const t0 = performance.now();
  await vscode.commands.executeCommand('workbench.action.files.save');
  const saveMs = performance.now() - t0;
  mark('save');
  const copySyncAfterMs = await timeCopySync(uri.fsPath);

  if (api.editor.documentState(uri)?.dirty !== false)
    throw new Error('the document is still dirty after saving');
  const expected = sizeBefore - Buffer.byteLength(oldLine) + Buffer.byteLength(newLine);
  const sizeAfter = fs.statSync(uri.fsPath).size;
  if (sizeAfter !== expected) throw new Error(`saved size ${sizeAfter}, expected ${expected}`);
  // The edited line is on disk, once, as the record it replaced (ids are unique: synth_<line>).
  const found = await grepFixed(uri.fsPath, token);
  if (found.length !== 1 || !found[0]?.includes(`"id":"synth_${line}"`)) {
    throw new Error(
      `the saved file holds ${found.length} line(s) with the edit, expected record ${line + 1} once`,
    );
  }
  return { copySyncMs, copySyncAfterMs, saveMs, loadAvg };
}

/** Lines of `file` containing `needle` (GNU grep in a child process: no extension-host memory). */
function grepFixed(file: string, needle: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile('grep', ['-F', '--', needle, file], { maxBuffer: 64 * MB }, (err, stdout) => {
      if (err && err.code !== 1) reject(new Error(`grep in ${file} failed: ${err.message}`));
      else resolve(stdout.split('\n').filter((l) => l.length > 0));
    });
  });
}

export interface LargeFileFigures {
  bytes: number;
  lines: number;
  smallBytes: number;
  generateMs: number;
  droppedCache: boolean;
  small: FirstPage;
  large: FirstPage;
  /** Jumps to records in the first 1 % (not shown yet), near the end, and anywhere. */
  jumpStartMs: number[];
  jumpEndMs: number[];
  jumpRandomMs: number[];
  /** Extension-host memory before opening the large file, in MiB. */
  memoryBefore: MemorySample;
  /** Peak RSS over the whole large-file run, in MiB. */
  rssPeakMB: number;
  /** Per phase: peak RSS and memory at its end, in MiB. */
  memoryPhases: { name: string; peakRss: number; at: MemorySample }[];
  saves: SaveRound[];
  loadAvg: number[];
}

export interface LargeFileOptions {
  /** Size of the large file. */
  bytes: number;
  /** Size of the small baseline file. */
  smallBytes?: number;
  /** Folder for both files (deleted afterwards). */
  dir: string;
  /** Random jumps. */
  jumps?: number;
  /** Edit-and-save rounds. */
  saveRounds?: number;
  log?: (line: string) => void;
}

/** Generates both files, measures, closes the editors and deletes the files. */
export async function measureLargeFile(api: ParrotApi, opts: LargeFileOptions): Promise<LargeFileFigures> {
  const log = opts.log ?? (() => undefined);
  const loads: number[] = [loadavg()[0] ?? 0];
  const smallPath = path.join(opts.dir, 'small.jsonl');
  const largePath = path.join(opts.dir, 'large.jsonl');
  try {
    const t0 = performance.now();
    const small = await writeSynthDataset(smallPath, opts.smallBytes ?? MB, 11);
    const large = await writeSynthDataset(largePath, opts.bytes, 7);
    const generateMs = performance.now() - t0;
    log(
      `generated ${large.lines} records (${(large.bytes / 1e9).toFixed(2)} GB) in ${(generateMs / 1000).toFixed(1)} s`,
    );
    const smallUri = vscode.Uri.file(small.path);
    const largeUri = vscode.Uri.file(large.path);

    // The first webview of a run pays for loading the webview machinery: a warm-up open of the small
    // file, then the measured one, so that both measured opens start from the same state.
    await openAndTime(api, smallUri);
    await closeAllEditors();
    const smallFigures = await openAndTime(api, smallUri);
    await closeAllEditors();
    if (smallFigures.lineCount !== small.lines) {
      throw new Error(`small file: ${smallFigures.lineCount} records indexed, ${small.lines} written`);
    }

    // A first open reads from disk: the large file leaves the page cache where the system allows.
    const droppedCache = await dropFromPageCache(large.path);
    loads.push(loadavg()[0] ?? 0);
    const mem = new MemorySampler();
    const largeFigures = await openAndTime(api, largeUri);
    mem.mark('indexed');
    if (largeFigures.lineCount !== large.lines) {
      throw new Error(`large file: ${largeFigures.lineCount} records indexed, ${large.lines} written`);
    }

    const rnd = mulberry32(3);
    const n = opts.jumps ?? 20;
    const count = largeFigures.lineCount;
    const jumpStartMs: number[] = [];
    const jumpEndMs: number[] = [];
    const jumpRandomMs: number[] = [];
    for (let i = 0; i < n; i++) {
      jumpStartMs.push(await jump(api, largeUri, 200 + Math.floor(rnd() * (count / 100))));
      jumpEndMs.push(await jump(api, largeUri, count - 1 - Math.floor(rnd() * 1000)));
      jumpRandomMs.push(await jump(api, largeUri, Math.floor(rnd() * count)));
    }
    loads.push(loadavg()[0] ?? 0);
    mem.mark('jumps');

    // Saves and their baseline copies are timed with nothing else running: the validation of the
    // opened file is let finish, and the one each save's file change would start is off meanwhile.
    await api.diagnostics.settled(largeUri);
    const validation = vscode.workspace.getConfiguration('parrot.validation');
    const wasEnabled = validation.inspect<boolean>('enabled')?.globalValue;
    await validation.update('enabled', false, vscode.ConfigurationTarget.Global);
    const saves: SaveRound[] = [];
    try {
      for (let r = 0; r < (opts.saveRounds ?? 1); r++) {
        const line = Math.floor(count / 2) + r;
        saves.push(
          await editAndSave(api, largeUri, line, `parrot-edit-round-${r + 1}-${Date.now()}`, (phase) =>
            mem.mark(`${phase} ${r + 1}`),
          ),
        );
      }
    } finally {
      await validation.update('enabled', wasEnabled, vscode.ConfigurationTarget.Global);
    }
    mem.stop();
    loads.push(loadavg()[0] ?? 0);
    return {
      bytes: large.bytes,
      lines: large.lines,
      smallBytes: small.bytes,
      generateMs,
      droppedCache,
      small: smallFigures,
      large: largeFigures,
      jumpStartMs,
      jumpEndMs,
      jumpRandomMs,
      memoryBefore: mem.before,
      rssPeakMB: mem.peak,
      memoryPhases: mem.phases,
      saves,
      loadAvg: loads,
    };
  } finally {
    await closeAllEditors();
    await rm(smallPath, { force: true });
    await rm(largePath, { force: true });
    await rm(`${largePath}.copy`, { force: true });
  }
}

/**
 * The saves' time over their baseline, as the minimum of interleaved runs (the least disturbed by a
 * noisy disk: each save is timed between two copies, from the same clean state).
 */
export function saveRatio(saves: SaveRound[]): number {
  const copies = saves.flatMap((s) => [s.copySyncMs, s.copySyncAfterMs]);
  return Math.min(...saves.map((s) => s.saveMs)) / Math.min(...copies);
}

const x = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
const ms = (v: number) => `${v.toFixed(0)} ms`;
const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(0)}`;

/** The figures as report lines (ratios first, absolute times in brackets). */
export function describeFigures(f: LargeFileFigures): string[] {
  const copies = f.saves.flatMap((s) => [s.copySyncMs, s.copySyncAfterMs]);
  const base = median(f.jumpStartMs);
  return [
    `large file: ${(f.bytes / 1e9).toFixed(2)} GB, ${f.lines.toLocaleString('en')} records; small file: ${(f.smallBytes / 1e6).toFixed(1)} MB; page cache dropped before opening: ${f.droppedCache ? 'yes' : 'no'}`,
    `first page: ${x(f.large.firstPageMs, f.small.firstPageMs)} the small file (${ms(f.large.firstPageMs)} vs ${ms(f.small.firstPageMs)}); first record ${x(f.large.firstRecordMs, f.small.firstRecordMs)} (${ms(f.large.firstRecordMs)} vs ${ms(f.small.firstRecordMs)})`,
    `first page posted while indexing: ${f.large.indexingAtFirstPage ? 'yes' : 'no'} (${f.large.linesAtFirstPage.toLocaleString('en')} records known); whole index after ${ms(f.large.indexedMs)} (${x(f.large.indexedMs, f.large.firstPageMs)} the first page)`,
    `jump once indexed, median of ${f.jumpStartMs.length}: near the end ${x(median(f.jumpEndMs), base)}, anywhere ${x(median(f.jumpRandomMs), base)} a jump within the first 1 % (${ms(median(f.jumpEndMs))}, ${ms(median(f.jumpRandomMs))} vs ${ms(base)}; slowest ${ms(Math.max(...f.jumpEndMs, ...f.jumpRandomMs))})`,
    `extension-host RSS: peak +${(f.rssPeakMB - f.memoryBefore.rss).toFixed(0)} MB over ${f.memoryBefore.rss.toFixed(0)} MB before opening; ${f.memoryPhases
      .map(
        (p) =>
          `${p.name}: peak +${(p.peakRss - f.memoryBefore.rss).toFixed(0)}, end +${(p.at.rss - f.memoryBefore.rss).toFixed(0)} (heap used ${signed(p.at.heapUsed - f.memoryBefore.heapUsed)}, heap total ${signed(p.at.heapTotal - f.memoryBefore.heapTotal)}, external ${signed(p.at.external - f.memoryBefore.external)}, anon ${signed((p.at.rssAnon ?? NaN) - (f.memoryBefore.rssAnon ?? NaN))}, file ${signed((p.at.rssFile ?? NaN) - (f.memoryBefore.rssFile ?? NaN))})`,
      )
      .join('; ')} MB`,
    `save after one edit, min of ${f.saves.length} rounds: ${saveRatio(f.saves).toFixed(2)}x the fastest durable copy, fs.copyFile (copy_file_range) + fsync, timed just before and just after each save (saves ${f.saves.map((s) => ms(s.saveMs)).join(', ')}; copies ${copies.map(ms).join(', ')})`,
    `load average (1 min) during the run: ${f.loadAvg.map((l) => l.toFixed(1)).join(', ')}`,
  ];
}

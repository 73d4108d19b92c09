/**
 * Validation of one byte range of a file: per-record diagnostics (line numbers relative to the
 * range) and compact per-record facts for the cross-record rules. Runs in a worker or in-process.
 */
import { Column } from './column';
import { releaseLineKernel, takeLineKernel } from './kernel';
import { forEachLine, LineReader } from './lines';
import { rereadDialogueHash, type RecordChecker } from './record';
import type { Diagnostic, ValidateOptions } from './types';
import type { RecordMapping } from '../formats/recordMapping';

export interface ChunkTask {
  id: number;
  path: string;
  start: number;
  end: number;
  /** Lines longer than this fail the task (default: the longest string, MAX_LINE_BYTES). */
  maxLineBytes?: number;
}

export interface ChunkResult {
  id: number;
  lines: number;
  /** Per-record diagnostics, lines relative to the range, at most maxDiagnostics. */
  diagnostics: Diagnostic[];
  /** All per-record diagnostics of the range, kept or not. */
  total: number;
  /** How many of them are errors. */
  errors: number;
  factLine: Uint32Array;
  factOffset: Float64Array;
  format: Int8Array;
  idHash: Float64Array;
  dialogueKey: Float64Array;
  dialogueFull: Float64Array;
  kinds: Uint8Array;
  recStart: Uint32Array;
  recEnd: Uint32Array;
}

/** Records to read again by byte offset, for the full hashes of their dialogues. */
export interface HashTask {
  id: number;
  path: string;
  offsets: Float64Array;
  lines: Float64Array;
  formats: Int8Array;
  /** The dataset_info.json renames the records were checked through. */
  mapping?: RecordMapping;
}

export type WorkerRequest = { type: 'task'; task: ChunkTask } | { type: 'hash'; task: HashTask };
export type WorkerResponse =
  | { type: 'result'; result: ChunkResult }
  | { type: 'hashes'; id: number; hashes: Float64Array }
  | { type: 'error'; id: number; message: string; byteOffset?: number };
export interface WorkerInit {
  opts: ValidateOptions;
  /** The block kernel's compiled WebAssembly module, when this thread has one. */
  kernel?: object;
}

/** The bytes read at a time. */
const BLOCK = 1 << 20;

export async function checkChunk(
  checker: RecordChecker,
  task: ChunkTask,
  maxDiagnostics: number,
  shouldStop?: () => boolean,
  onBlock?: (bytesDone: number) => void,
): Promise<ChunkResult> {
  const diagnostics: Diagnostic[] = [];
  let total = 0;
  let errors = 0;
  const factLine = new Column((n) => new Uint32Array(n));
  const factOffset = new Column((n) => new Float64Array(n));
  const format = new Column((n) => new Int8Array(n));
  const idHash = new Column((n) => new Float64Array(n));
  const dialogueKey = new Column((n) => new Float64Array(n));
  const dialogueFull = new Column((n) => new Float64Array(n));
  const kinds = new Column((n) => new Uint8Array(n));
  const recStart = new Column((n) => new Uint32Array(n));
  const recEnd = new Column((n) => new Uint32Array(n));
  // Line numbers only matter for BOM handling (line 0 of the file) and for the result.
  const firstLineOfFile = task.start === 0;
  checker.resetSignatures();
  // The block kernel does the fast path's work; it is only worth it when the fast path is taken.
  const kernel = checker.usesFastPath ? takeLineKernel(BLOCK) : undefined;
  const lines = await forEachLine(
    task.path,
    task.start,
    task.end,
    (l) => {
      const index = l.index;
      const r = checker.checkRaw(l, firstLineOfFile ? index : index + 1);
      for (const d of r.diagnostics) {
        total++;
        if (d.severity === 'error') errors++;
        if (diagnostics.length < maxDiagnostics) diagnostics.push({ ...d, line: index });
      }
      const f = r.facts;
      if (f) {
        factLine.push(index);
        factOffset.push(l.byteOffset);
        format.push(f.format);
        idHash.push(f.idHash);
        dialogueKey.push(f.dialogueKey);
        dialogueFull.push(f.dialogueFull);
        kinds.push(f.kinds);
        recStart.push(f.recStart);
        recEnd.push(f.recEnd);
      }
    },
    shouldStop,
    onBlock,
    BLOCK,
    task.maxLineBytes,
    kernel,
  ).finally(() => {
    if (kernel) releaseLineKernel(kernel);
  });
  return {
    id: task.id,
    lines,
    diagnostics,
    total,
    errors,
    factLine: factLine.done(),
    factOffset: factOffset.done(),
    format: format.done(),
    idHash: idHash.done(),
    dialogueKey: dialogueKey.done(),
    dialogueFull: dialogueFull.done(),
    kinds: kinds.done(),
    recStart: recStart.done(),
    recEnd: recEnd.done(),
  };
}

export function transferList(r: ChunkResult): ArrayBuffer[] {
  return [
    r.factLine,
    r.factOffset,
    r.format,
    r.idHash,
    r.dialogueKey,
    r.dialogueFull,
    r.kinds,
    r.recStart,
    r.recEnd,
  ].map((a) => a.buffer as ArrayBuffer);
}

/** The full dialogue hash of each record of a HashTask, in its order (read in file order). */
export async function hashRecords(t: HashTask): Promise<Float64Array> {
  const out = new Float64Array(t.offsets.length);
  const order = Array.from(out.keys()).sort((a, b) => t.offsets[a] - t.offsets[b]);
  const reader = new LineReader(t.path);
  try {
    for (const i of order) {
      out[i] = rereadDialogueHash(await reader.read(t.offsets[i]), t.lines[i], t.formats[i], t.mapping);
    }
  } finally {
    await reader.close();
  }
  return out;
}

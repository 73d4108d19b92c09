/**
 * dataset_info.json on disk: find the entry of a dataset, check every local entry against its file,
 * and register a dataset (a new entry, the rest of the file byte for byte, written atomically).
 */
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { FormatId } from '../model';
import { readFileLines } from '../stats/lines';
import { atomicWrite } from '../store/save';
import {
  DATA_CONFIG,
  EntryChecker,
  entryFor,
  insertEntry,
  newDatasetInfo,
  parseDatasetInfo,
  positionIn,
  type DatasetAttr,
  type InfoProblem,
} from './datasetInfo';
import { detectRecordFormat } from './detect';
import { FORMAT_IDS } from './catalog';

/** Largest JSON array file read whole to check or register it. */
const MAX_ARRAY_BYTES = 512 * 1024 * 1024;

/** Records of a JSONL file (1-based line numbers) or a JSON array (1-based element numbers). */
export async function* datasetRecords(file: string): AsyncGenerator<{ value: unknown; line: number }> {
  if (file.toLowerCase().endsWith('.json')) {
    const st = await stat(file);
    if (st.size > MAX_ARRAY_BYTES) throw new Error(`${file}: a JSON array over 512 MiB is not read whole`);
    const v: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (!Array.isArray(v)) throw new Error(`${file}: not a JSON array of records`);
    for (let i = 0; i < v.length; i++) yield { value: v[i] as unknown, line: i + 1 };
    return;
  }
  for await (const l of readFileLines(file)) {
    if (l.encoding || l.text.trim() === '') continue;
    try {
      yield { value: JSON.parse(l.text) as unknown, line: l.line };
    } catch {
      /* invalid lines are parrot validate's business */
    }
  }
}

export interface PositionedProblem extends InfoProblem {
  line: number;
  startCol: number;
  endLine: number;
  endCol: number;
}

/**
 * Every problem of a dataset_info.json: its own shape, entries whose local file is missing, and
 * what each local file shows about its entry (missing columns, records LLaMA-Factory would skip).
 * Positions are in dataset_info.json.
 */
export async function checkDatasetInfo(infoPath: string): Promise<PositionedProblem[]> {
  const text = await readFile(infoPath, 'utf8');
  const { attrs, problems } = parseDatasetInfo(text);
  const dir = path.dirname(infoPath);
  for (const a of attrs) {
    if (a.loadFrom !== 'file' || a.fileName === undefined) continue;
    const file = path.resolve(dir, a.fileName);
    const st = await stat(file).catch(() => undefined);
    if (!st) {
      problems.push({
        code: 'dataset-info/missing-file',
        severity: 'warning',
        pointer: `/${a.name.replace(/~/g, '~0').replace(/\//g, '~1')}/file_name`,
        message: `entry "${a.name}": file "${a.fileName}" does not exist beside ${DATA_CONFIG}`,
      });
      continue;
    }
    if (st.isDirectory()) continue;
    const checker = new EntryChecker(a);
    for await (const r of datasetRecords(file)) checker.add(r.value, r.line);
    problems.push(...checker.problems(a.fileName));
  }
  return problems.map((p) => ({ ...p, ...positionIn(text, p) }));
}

/** The dataset_info.json entry that names `datasetPath`, looked up beside the file and up to two folders above. */
export async function findEntry(
  datasetPath: string,
): Promise<{ infoPath: string; attr: DatasetAttr } | undefined> {
  const abs = path.resolve(datasetPath);
  let dir = path.dirname(abs);
  for (let i = 0; i < 3; i++) {
    const infoPath = path.join(dir, DATA_CONFIG);
    const text = await readFile(infoPath, 'utf8').catch(() => undefined);
    if (text !== undefined) {
      const attr = parseDatasetInfo(text).attrs.find(
        (a) => a.fileName !== undefined && path.resolve(dir, a.fileName) === abs,
      );
      if (attr) return { infoPath, attr };
    }
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}

export interface RegisterResult {
  infoPath: string;
  name: string;
  entry: Record<string, unknown>;
  format: FormatId;
  created: boolean;
}

/**
 * Adds an entry for `datasetPath` to the dataset_info.json of its folder (created if there is none),
 * with the format detected from its first 200 records. Every other byte of the file is kept; the
 * write is atomic. Throws a readable Error (name taken, a format dataset_info.json cannot describe).
 */
export async function registerDataset(datasetPath: string, name?: string): Promise<RegisterResult> {
  const abs = path.resolve(datasetPath);
  const dir = path.dirname(abs);
  const infoPath = path.join(dir, DATA_CONFIG);
  if (abs === infoPath) throw new Error(`${DATA_CONFIG} is not a dataset`);
  const records: unknown[] = [];
  const counts = new Map<FormatId, number>();
  for await (const r of datasetRecords(abs)) {
    records.push(r.value);
    const f = detectRecordFormat(r.value);
    if (f) counts.set(f, (counts.get(f) ?? 0) + 1);
    if (records.length >= 200) break;
  }
  let format: FormatId | undefined;
  for (const f of FORMAT_IDS) if ((counts.get(f) ?? 0) > (format ? (counts.get(format) ?? 0) : 0)) format = f;
  if (!format)
    throw new Error(
      `${path.basename(abs)}: no record of a known format in its first ${records.length} record(s)`,
    );
  const entryName = name ?? path.basename(abs).replace(/\.(jsonl|json)$/i, '');
  const entry = entryFor(format, path.basename(abs), records);
  const before = await readFile(infoPath, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const text =
    before === undefined ? newDatasetInfo(entryName, entry) : insertEntry(before, entryName, entry);
  await atomicWrite(infoPath, 0o644, undefined, async (fh) => {
    await fh.writeFile(text, 'utf8');
  });
  return { infoPath, name: entryName, entry, format, created: before === undefined };
}

/**
 * The review sidecar `<dataset file name>.review.jsonl`: one decision per line, append-only, every
 * line's keys sorted, so two reviewers' additions merge line-wise (`merge=union`) and a line is never
 * rewritten. The dataset's own bytes are never touched by a review.
 */
import { open, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isReviewStatus, type Decision } from './types';

export const SIDECAR_SUFFIX = '.review.jsonl';

/** The sidecar of `datasetPath`: beside it, named after the whole file name. */
export function sidecarPath(datasetPath: string): string {
  return path.join(path.dirname(datasetPath), path.basename(datasetPath) + SIDECAR_SUFFIX);
}

/** Longest note kept (longer ones are cut; a note is a remark, not a document). */
export const MAX_NOTE = 10_000;

/** The sidecar line of a decision (no line ending): keys sorted, no optional key without a value. */
export function decisionLine(d: Decision): string {
  const o: Record<string, unknown> = {};
  const entries: [string, unknown][] = [
    ['after', d.after],
    ['from', d.from],
    ['hash', d.hash],
    ['key', d.key],
    ['note', d.note === undefined || d.note === '' ? undefined : d.note.slice(0, MAX_NOTE)],
    ['reviewer', d.reviewer],
    ['status', d.status],
    ['time', d.time],
    ['turn', d.turn],
  ];
  for (const [k, v] of entries) if (v !== undefined) o[k] = v;
  return JSON.stringify(o);
}

export interface SidecarProblem {
  /** 1-based line of the sidecar. */
  line: number;
  message: string;
}

export interface ParsedSidecar {
  decisions: Decision[];
  problems: SidecarProblem[];
}

function isTime(v: unknown): v is string {
  return typeof v === 'string' && !Number.isNaN(Date.parse(v));
}

/** Reads one sidecar line; a string says what is wrong with it. */
export function parseDecision(text: string): Decision | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `invalid JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return 'a decision must be a JSON object';
  const o = v as Record<string, unknown>;
  if (typeof o.key !== 'string' || o.key === '') return '"key" must be a non-empty string';
  if (!isReviewStatus(o.status)) return `"status" must be unreviewed, accepted, rejected or needs-work`;
  if (typeof o.reviewer !== 'string') return '"reviewer" must be a string';
  if (!isTime(o.time)) return '"time" must be an ISO 8601 time';
  if (typeof o.hash !== 'string') return '"hash" must be a string';
  if (o.turn !== undefined && !(typeof o.turn === 'number' && Number.isSafeInteger(o.turn) && o.turn >= 0))
    return '"turn" must be a turn index (0 or more)';
  if (o.note !== undefined && typeof o.note !== 'string') return '"note" must be a string';
  if (o.after !== undefined && !isTime(o.after)) return '"after" must be an ISO 8601 time';
  if (o.from !== undefined && typeof o.from !== 'string') return '"from" must be a string';
  const d: Decision = { key: o.key, status: o.status, reviewer: o.reviewer, time: o.time, hash: o.hash };
  if (o.turn !== undefined) d.turn = o.turn;
  if (typeof o.note === 'string' && o.note !== '') d.note = o.note;
  if (o.after !== undefined) d.after = o.after;
  if (typeof o.from === 'string') d.from = o.from;
  return d;
}

/**
 * Parses a sidecar's text. Bad lines (a merge marker left by git, a line cut by a crash) are
 * reported with their line number and skipped: the others still count.
 */
export function parseSidecar(text: string): ParsedSidecar {
  const decisions: Decision[] = [];
  const problems: SidecarProblem[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (line.trim() === '') return;
    const d = parseDecision(line);
    if (typeof d === 'string') problems.push({ line: i + 1, message: d });
    else decisions.push(d);
  });
  return { decisions, problems };
}

/** Reads the sidecar at `file`; a missing file is an empty sidecar. */
export async function readSidecar(file: string): Promise<ParsedSidecar> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { decisions: [], problems: [] };
    throw e;
  }
  return parseSidecar(text);
}

/**
 * Appends decisions to the sidecar at `file` (created when missing) and flushes them to disk. A
 * file whose last line has no line ending (cut short) gets one first, so the new line stays whole.
 */
export async function appendDecisions(file: string, decisions: readonly Decision[]): Promise<void> {
  if (decisions.length === 0) return;
  const h = await open(file, 'a+');
  try {
    const { size } = await h.stat();
    let lead = '';
    if (size > 0) {
      const last = Buffer.alloc(1);
      await h.read(last, 0, 1, size - 1);
      if (last[0] !== 0x0a) lead = '\n';
    }
    await h.write(lead + decisions.map((d) => decisionLine(d) + '\n').join(''));
    await h.sync();
  } finally {
    await h.close();
  }
}

/** The sidecar of `datasetPath`, read; bad lines are in `problems`. */
export function readSidecarOf(datasetPath: string): Promise<ParsedSidecar> {
  return readSidecar(sidecarPath(datasetPath));
}

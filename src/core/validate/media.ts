/**
 * Multimodal records: LLaMA-Factory `images` / `videos` / `audios` columns with `<image>` /
 * `<video>` / `<audio>` placeholders in the text, LLaMA-Factory v1 `image_url` / `video_url` /
 * `audio_url` parts, OpenAI `image_url` parts. Checks that each local file exists and that every
 * placeholder has its media entry (LLaMA-Factory refuses a record where the counts differ).
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { RecordView, TurnView } from './view';

export interface MediaProblem {
  code: 'media/missing-file' | 'media/count';
  pointer: string;
  message: string;
}

const COLUMNS = [
  { column: 'images', tag: '<image>', noun: 'image' },
  { column: 'videos', tag: '<video>', noun: 'video' },
  { column: 'audios', tag: '<audio>', noun: 'audio file' },
] as const;

const V1_PARTS: ReadonlySet<string> = new Set(['image_url', 'video_url', 'audio_url']);

/** How many folders above the dataset's folder a relative path is also looked up in. */
const PARENT_LEVELS = 2;

const seen = new Map<string, boolean>();

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A path on this machine, as opposed to a URL (`https:`, `data:`, `s3:` …). */
function isLocal(p: string): boolean {
  if (/^file:/i.test(p)) return true;
  return !/^[a-z][a-z0-9+.-]+:/i.test(p) || /^[a-z]:[\\/]/i.test(p);
}

/**
 * Whether a local media path exists: absolute as is, relative against the dataset's folder (which
 * is LLaMA-Factory's default `media_dir`) or one of its parents (LLaMA-Factory falls back to the
 * working directory, usually the project folder above `data/`).
 */
export function mediaExists(p: string, root: string): boolean {
  const file = /^file:/i.test(p) ? decodeURI(p.replace(/^file:(\/\/)?/i, '')) : p;
  const key = root + '\0' + file;
  const had = seen.get(key);
  if (had !== undefined) return had;
  let found = false;
  if (path.isAbsolute(file)) found = existsSync(file);
  else {
    let dir = root;
    for (let i = 0; i <= PARENT_LEVELS && !found; i++) {
      found = existsSync(path.join(dir, file));
      const up = path.dirname(dir);
      if (up === dir) break;
      dir = up;
    }
  }
  if (seen.size > 10000) seen.clear();
  seen.set(key, found);
  return found;
}

function count(s: string, tag: string): number {
  let n = 0;
  for (let i = s.indexOf(tag); i >= 0; i = s.indexOf(tag, i + tag.length)) n++;
  return n;
}

/**
 * The media problems of one record. `root` is the dataset's folder (no file checks without it);
 * `bytes` says that strings are UTF-8 read as Latin-1 (paths are decoded before they are looked up).
 */
export function mediaProblems(
  v: Record<string, unknown>,
  view: RecordView,
  root: string | undefined,
  bytes: boolean,
  counts: boolean,
  files: boolean,
): MediaProblem[] {
  const out: MediaProblem[] = [];
  const text = (s: string): string => (bytes ? Buffer.from(s, 'latin1').toString('utf8') : s);
  const checkFile = (p: unknown, pointer: string, what: string): void => {
    if (!files || root === undefined || typeof p !== 'string' || p === '' || !isLocal(p)) return;
    const name = text(p);
    if (!mediaExists(name, root))
      out.push({
        code: 'media/missing-file',
        pointer,
        message: `${what} "${name}" does not exist (looked up from the dataset's folder and the ${PARENT_LEVELS} folders above it)`,
      });
  };
  const turns: TurnView[] = view.sequence.length ? view.sequence : view.turns;
  const all = view.rejected ? turns.concat(view.rejected) : turns;
  // LLaMA-Factory columns and placeholders.
  for (const { column, tag, noun } of COLUMNS) {
    if (!(column in v)) continue;
    const raw = v[column];
    const list: unknown[] = Array.isArray(raw) ? raw : raw === null || raw === undefined ? [] : [raw];
    list.forEach((m, i) => {
      const ptr = Array.isArray(raw) ? `/${column}/${i}` : `/${column}`;
      if (Array.isArray(m)) m.forEach((f, j) => checkFile(f, `${ptr}/${j}`, `${noun} frame`));
      else checkFile(m, ptr, noun);
    });
    if (!counts) continue;
    let tags = 0;
    for (const t of turns) if (typeof t.content === 'string') tags += count(t.content, tag);
    if (tags !== list.length)
      out.push({
        code: 'media/count',
        pointer: `/${column}`,
        message: `${tags} ${tag} placeholder(s) in the text but ${list.length} ${noun}(s) in "${column}": LLaMA-Factory needs one placeholder per entry`,
      });
  }
  // Media content parts (LLaMA-Factory v1 `{type, value}`, OpenAI `{type: "image_url", image_url: {url}}`).
  for (const t of all) {
    if (!Array.isArray(t.content)) continue;
    t.content.forEach((p: unknown, i) => {
      if (!isObj(p) || typeof p.type !== 'string') return;
      if (V1_PARTS.has(p.type) && typeof p.value === 'string')
        checkFile(p.value, `${t.contentPtr}/${i}/value`, p.type.replace('_url', ''));
      else if (p.type === 'image_url' && isObj(p.image_url))
        checkFile(p.image_url.url, `${t.contentPtr}/${i}/image_url/url`, 'image');
    });
  }
  return out;
}

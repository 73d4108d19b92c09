/**
 * Media between LLaMA-Factory's two ways of writing them: `images` / `videos` / `audios` columns
 * with `<image>` / `<video>` / `<audio>` placeholders in the text (its alpaca / sharegpt / openai
 * formatting, also read by TRL), and v1 content parts `{type: "image_url" | "video_url" |
 * "audio_url", value: path}` placed where the placeholder was (as LLaMA-Factory's v1 converter does).
 */
import type { Part, Turn } from '../model';

export const MEDIA_COLUMNS = ['images', 'videos', 'audios'] as const;

const BY_TAG: Record<string, { part: string; column: (typeof MEDIA_COLUMNS)[number] }> = {
  '<image>': { part: 'image_url', column: 'images' },
  '<video>': { part: 'video_url', column: 'videos' },
  '<audio>': { part: 'audio_url', column: 'audios' },
};
const BY_PART: Record<string, string> = { image_url: '<image>', video_url: '<video>', audio_url: '<audio>' };
const TAGS = /(<image>|<video>|<audio>)/;

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? [...(v as unknown[])] : v === undefined || v === null ? [] : [v];
}

/** A v1 media part (a path or URL in `value`), as opposed to an OpenAI `image_url` object part. */
function isV1Media(p: Part): boolean {
  return Object.prototype.hasOwnProperty.call(BY_PART, p.type) && typeof p.value === 'string';
}

/**
 * Placeholders + columns -> v1 media parts. Returns the turns and the meta without the columns
 * it used up; a placeholder without an entry stays text, and entries without a placeholder are
 * reported through `lose` and kept in their column.
 */
export function placeholdersToParts(
  turns: Turn[],
  meta: Record<string, unknown>,
  lose: (msg: string) => void,
): { turns: Turn[]; meta: Record<string, unknown> } {
  if (!MEDIA_COLUMNS.some((c) => c in meta)) return { turns, meta };
  const queues: Record<string, unknown[]> = {};
  for (const c of MEDIA_COLUMNS) queues[c] = asList(meta[c]);
  const out = turns.map((turn, i) => {
    const texts = typeof turn.content === 'string' ? [turn.content] : undefined;
    if (!texts || !TAGS.test(texts[0])) return turn;
    const parts: Part[] = [];
    for (const seg of texts[0].split(TAGS)) {
      const tag = BY_TAG[seg];
      if (tag && queues[tag.column].length) parts.push({ type: tag.part, value: queues[tag.column].shift() });
      else if (tag) {
        lose(`turn ${i + 1}: ${seg} has no entry left in "${tag.column}" (kept as text)`);
        parts.push({ type: 'text', text: seg });
      } else if (seg) parts.push({ type: 'text', text: seg });
    }
    return { ...turn, content: parts };
  });
  const rest = { ...meta };
  for (const c of MEDIA_COLUMNS) {
    if (!(c in meta)) continue;
    if (queues[c].length) {
      lose(`${queues[c].length} entr(ies) of "${c}" have no placeholder (kept in "${c}")`);
      rest[c] = queues[c];
    } else delete rest[c];
  }
  return { turns: out, meta: rest };
}

/**
 * v1 media parts -> placeholders in the text and entries in the columns, in document order.
 * Turns without media parts are returned as they are.
 */
export function partsToPlaceholders(
  turns: readonly Turn[],
  meta: Record<string, unknown>,
): { turns: Turn[]; meta: Record<string, unknown> } {
  if (!turns.some((t) => Array.isArray(t.content) && t.content.some(isV1Media)))
    return { turns: [...turns], meta };
  const columns: Record<string, unknown[]> = {};
  const out = turns.map((turn) => {
    if (typeof turn.content === 'string' || !turn.content.some(isV1Media)) return turn;
    const parts: Part[] = turn.content.map((p) => {
      if (!isV1Media(p)) return p;
      const tag = BY_PART[p.type];
      (columns[BY_TAG[tag].column] ??= []).push(p.value);
      return { type: 'text', text: tag };
    });
    const content = parts.every((p) => p.type === 'text' && typeof p.text === 'string')
      ? parts.map((p) => p.text).join('')
      : parts;
    return { ...turn, content };
  });
  const merged = { ...meta };
  for (const [c, list] of Object.entries(columns)) merged[c] = [...asList(meta[c]), ...list];
  return { turns: out, meta: merged };
}

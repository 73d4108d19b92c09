/**
 * Where a record's media are, turn by turn, for display: LLaMA-Factory `images` / `videos` /
 * `audios` columns matched to the `<image>` / `<video>` / `<audio>` placeholders in the text (in
 * order, as LLaMA-Factory's mm_plugin consumes them), LLaMA-Factory v1 `image_url` / `video_url` /
 * `audio_url` parts, and OpenAI `image_url` content parts. Reading only: nothing is rewritten.
 */
import type { Part, Sample, Turn } from '../model';

export type MediaKind = 'image' | 'video' | 'audio';
export type MediaSection = 'turns' | 'prompt' | 'chosen' | 'rejected';

export interface MediaRef {
  section: MediaSection;
  /** 0-based turn in `section`; -1 for an entry no placeholder points to. */
  turn: number;
  kind: MediaKind;
  /** The path or URL as written. */
  ref: string;
}

const TAGS: readonly { tag: string; column: string; kind: MediaKind }[] = [
  { tag: '<image>', column: 'images', kind: 'image' },
  { tag: '<video>', column: 'videos', kind: 'video' },
  { tag: '<audio>', column: 'audios', kind: 'audio' },
];
const PART_KINDS: Record<string, MediaKind> = { image_url: 'image', video_url: 'video', audio_url: 'audio' };
const PLACEHOLDER = /<(image|video|audio)>/g;

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A media part's path or URL: v1 `{type, value}`, OpenAI `{type: "image_url", image_url: {url}}`. */
function partRef(p: Part): { kind: MediaKind; ref: string } | undefined {
  const kind = PART_KINDS[p.type];
  if (!kind) return undefined;
  if (typeof p.value === 'string') return { kind, ref: p.value };
  const inner = p[p.type];
  if (typeof inner === 'string') return { kind, ref: inner };
  if (isObj(inner) && typeof inner.url === 'string') return { kind, ref: inner.url };
  return undefined;
}

/** Every media reference of a sample, in document order. A video given as frames is its first frame. */
export function mediaRefs(sample: Sample): MediaRef[] {
  const out: MediaRef[] = [];
  const queues = new Map<string, unknown[]>();
  for (const { column } of TAGS) {
    const v = sample.meta[column];
    queues.set(column, Array.isArray(v) ? [...(v as unknown[])] : v === undefined || v === null ? [] : [v]);
  }
  const take = (column: string): string | undefined => {
    const q = queues.get(column);
    let v = q?.shift();
    if (Array.isArray(v)) v = (v as unknown[])[0];
    return typeof v === 'string' ? v : undefined;
  };
  const sections: [MediaSection, Turn[]][] =
    sample.kind === 'dialogue'
      ? [['turns', sample.turns]]
      : [
          ['prompt', sample.prompt],
          ['chosen', sample.chosen],
          ['rejected', sample.rejected],
        ];
  for (const [section, turns] of sections)
    turns.forEach((t, turn) => {
      if (typeof t.content === 'string') {
        for (const m of t.content.matchAll(PLACEHOLDER)) {
          const spec = TAGS.find((x) => x.tag === m[0]);
          const ref = spec && take(spec.column);
          if (spec && ref !== undefined) out.push({ section, turn, kind: spec.kind, ref });
        }
        return;
      }
      for (const p of t.content) {
        const r = partRef(p);
        if (r) out.push({ section, turn, ...r });
      }
    });
  // Entries no placeholder took (validation reports the count as media/count).
  const first: MediaSection = sample.kind === 'dialogue' ? 'turns' : 'prompt';
  for (const { column, kind } of TAGS)
    for (
      let ref = take(column);
      ref !== undefined || (queues.get(column)?.length ?? 0) > 0;
      ref = take(column)
    )
      if (ref !== undefined) out.push({ section: first, turn: -1, kind, ref });
  return out;
}

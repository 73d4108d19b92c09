/**
 * A model's tokenizer and chat template, as one small interface that the CLI, the extension host
 * and workers load the same way (`loadChatTokenizer`, synchronous, cached per spec):
 *
 * - a local model folder as Hugging Face ships it: `tokenizer.json` (run by
 *   `@huggingface/tokenizers`) and `tokenizer_config.json` with its `chat_template` (or a
 *   `chat_template.jinja` / `chat_template.json` beside it), rendered by `@huggingface/jinja` with
 *   the variables `transformers`' `apply_chat_template` passes (`messages`, `tools`,
 *   `add_generation_prompt`, the special tokens, `raise_exception`, `strftime_now`);
 * - `o200k`: the o200k_base BPE (gpt-tokenizer) with a built-in ChatML template whose markers count
 *   one token each.
 *
 * Both libraries are loaded on first use only (a `require` inside the loader), never on activation.
 */
import { readFileSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { countTokens } from '../tokens';

/** A message as chat templates expect it (the OpenAI / Hugging Face shape). */
export interface ChatMessage {
  role: string;
  content: string;
  tool_calls?: unknown[];
  name?: string;
  tool_call_id?: string;
}

export interface RenderOptions {
  tools?: unknown;
  addGenerationPrompt?: boolean;
}

export interface ChatTokenizer {
  /** `o200k`, or the model folder's name. */
  readonly name: string;
  /** The end-of-turn token the template writes after a message (`eos_token`), if any. */
  readonly eos?: string;
  /** Renders messages through the chat template. Throws on a template error (`raise_exception`). */
  render(messages: readonly ChatMessage[], opts?: RenderOptions): string;
  /** Tokens of a rendered text (special tokens in it count as one; no BOS/EOS added). */
  count(text: string): number;
  /**
   * Tokens per segment of `text` cut at the UTF-16 offsets `cuts` (ascending, inside the text):
   * `cuts.length + 1` numbers that add up to `count(text)`. A token belongs to the segment where
   * its first byte lies.
   */
  countSegments(text: string, cuts: readonly number[]): number[];
  /** The UTF-16 offset in `text` where its token number `index` (0-based) starts; text.length past the end. */
  tokenStart(text: string, index: number): number;
}

export class TokenizerError extends Error {}

const cache = new Map<string, ChatTokenizer>();

/** `o200k` (or `o200k_base`), or a folder with tokenizer.json + tokenizer_config.json. */
export function loadChatTokenizer(spec: string): ChatTokenizer {
  const key = spec === 'o200k_base' ? 'o200k' : spec;
  let t = cache.get(key);
  if (!t) {
    t = key === 'o200k' ? o200k() : fromFolder(key);
    cache.set(key, t);
  }
  return t;
}

// --- templates ----------------------------------------------------------------------------------

interface JinjaTemplate {
  render(items: Record<string, unknown>): string;
}

function compile(source: string): JinjaTemplate {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Template } = require('@huggingface/jinja') as { Template: new (s: string) => JinjaTemplate };
  return new Template(source);
}

function renderWith(
  template: JinjaTemplate,
  specials: Record<string, unknown>,
  messages: readonly ChatMessage[],
  opts: RenderOptions = {},
): string {
  const items: Record<string, unknown> = {
    ...specials,
    messages,
    add_generation_prompt: opts.addGenerationPrompt === true,
  };
  if (opts.tools !== undefined && opts.tools !== null) items.tools = opts.tools;
  return template.render(items);
}

// --- o200k ----------------------------------------------------------------------------------------

const CHATML = `{%- if tools %}{{- '<|im_start|>system\\n# Tools\\n' }}{%- for tool in tools %}{{- tool | tojson }}{{- '\\n' }}{%- endfor %}{{- '<|im_end|>\\n' }}{%- endif %}
{%- for message in messages %}{{- '<|im_start|>' + message.role + '\\n' + message.content }}{%- if message.tool_calls %}{%- for call in message.tool_calls %}{{- '\\n' + (call | tojson) }}{%- endfor %}{%- endif %}{{- '<|im_end|>\\n' }}{%- endfor %}
{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}`;
const CHATML_SPECIALS = ['<|im_start|>', '<|im_end|>'];

/** Counts text between the special strings with `count`, each special string as one token. */
function splitCounter(specials: readonly string[], count: (s: string) => number): (s: string) => number {
  return (text) => {
    let n = 0;
    let at = 0;
    for (;;) {
      let next = -1;
      let len = 0;
      for (const s of specials) {
        const i = text.indexOf(s, at);
        if (i !== -1 && (next === -1 || i < next)) {
          next = i;
          len = s.length;
        }
      }
      if (next === -1) break;
      if (next > at) n += count(text.slice(at, next));
      n++;
      at = next + len;
    }
    if (at < text.length) n += count(text.slice(at));
    return n;
  };
}

function o200k(): ChatTokenizer {
  const template = compile(CHATML);
  const count = splitCounter(CHATML_SPECIALS, countTokens);
  return {
    name: 'o200k',
    eos: '<|im_end|>',
    render: (messages, opts) => renderWith(template, {}, messages, opts),
    count,
    countSegments: (text, cuts) => segmentsBySlices(text, cuts, count),
    tokenStart: (text, index) => startBySearch(text, index, count),
  };
}

/** Counts each segment on its own: exact when every cut lies next to a special token. */
function segmentsBySlices(text: string, cuts: readonly number[], count: (s: string) => number): number[] {
  const out: number[] = [];
  let at = 0;
  for (const c of [...cuts, text.length]) {
    out.push(c > at ? count(text.slice(at, c)) : 0);
    at = Math.max(at, c);
  }
  return out;
}

// --- Hugging Face model folders -------------------------------------------------------------------

interface Encoding {
  ids: number[];
  tokens: string[];
}
interface HfTokenizer {
  encode(text: string, options?: { add_special_tokens?: boolean }): Encoding;
  get_added_tokens_decoder(): Map<number, { content: string }>;
}

function readJson(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TokenizerError(`cannot read ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch (e) {
    throw new TokenizerError(`${path} is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  throw new TokenizerError(`${path} is not a JSON object`);
}

/** A special token as tokenizer_config.json writes it: a string or `{content: ...}`. */
function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return undefined;
}

/** The chat template of a folder: tokenizer_config.json's, else chat_template.jinja / .json. */
function chatTemplateOf(dir: string, config: Record<string, unknown>): string {
  const pick = (t: unknown): string | undefined => {
    if (typeof t === 'string') return t;
    if (Array.isArray(t)) {
      // A list of named templates: the "default" one, as transformers picks it.
      const named = t as { name?: unknown; template?: unknown }[];
      const d = named.find((x) => x.name === 'default') ?? named[0];
      return typeof d?.template === 'string' ? d.template : undefined;
    }
    return undefined;
  };
  const fromConfig = pick(config.chat_template);
  if (fromConfig !== undefined) return fromConfig;
  const jinja = join(dir, 'chat_template.jinja');
  if (existsSync(jinja)) return readFileSync(jinja, 'utf8');
  const json = join(dir, 'chat_template.json');
  if (existsSync(json)) {
    const t = pick(readJson(json).chat_template);
    if (t !== undefined) return t;
  }
  throw new TokenizerError(
    `${join(dir, 'tokenizer_config.json')} has no chat_template (nor is there a chat_template.jinja beside it)`,
  );
}

function fromFolder(dir: string): ChatTokenizer {
  if (!existsSync(dir) || !statSync(dir).isDirectory())
    throw new TokenizerError(`${dir}: not a folder (give a model folder with tokenizer.json, or o200k)`);
  const json = readJson(join(dir, 'tokenizer.json'));
  const config = readJson(join(dir, 'tokenizer_config.json'));
  const template = compile(chatTemplateOf(dir, config));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Tokenizer } = require('@huggingface/tokenizers') as {
    Tokenizer: new (json: object, config: object) => HfTokenizer;
  };
  let tok: HfTokenizer;
  try {
    tok = new Tokenizer(json, config);
  } catch (e) {
    throw new TokenizerError(`${join(dir, 'tokenizer.json')}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const specials: Record<string, unknown> = {};
  for (const k of [
    'bos_token',
    'eos_token',
    'unk_token',
    'pad_token',
    'sep_token',
    'cls_token',
    'mask_token',
  ]) {
    const t = tokenText(config[k]);
    if (t !== undefined) specials[k] = t;
  }
  if (Array.isArray(config.additional_special_tokens))
    specials.additional_special_tokens = config.additional_special_tokens.map(tokenText);
  const added = new Map<number, number>();
  for (const [id, t] of tok.get_added_tokens_decoder()) added.set(id, Buffer.byteLength(t.content, 'utf8'));
  const decoder = json.decoder as { type?: string } | null | undefined;
  const byteLevel = decoder?.type === 'ByteLevel';
  // As apply_chat_template tokenizes: the template writes BOS/EOS itself.
  const encode = (text: string): Encoding => tok.encode(text, { add_special_tokens: false });
  const count = (text: string): number => (text ? encode(text).ids.length : 0);
  return {
    name: dir,
    eos: typeof specials.eos_token === 'string' ? specials.eos_token : undefined,
    render: (messages, opts) => renderWith(template, specials, messages, opts),
    count,
    countSegments: (text, cuts) => {
      const starts = byteLevel ? charStarts(text, encode(text), added) : undefined;
      return starts ? segmentsFromStarts(starts, cuts) : segmentsBySlices(text, cuts, count);
    },
    tokenStart: (text, index) => {
      const starts = byteLevel ? charStarts(text, encode(text), added) : undefined;
      if (starts) return index < starts.length ? (starts[index] ?? text.length) : text.length;
      return startBySearch(text, index, count);
    },
  };
}

/**
 * The UTF-16 offset where each token starts, from the byte lengths of byte-level BPE tokens (each
 * character of a token's string stands for one byte; an added token is its content). Undefined
 * when the bytes do not add up to the text's (a normalizer changed it).
 */
function charStarts(text: string, e: Encoding, added: ReadonlyMap<number, number>): Int32Array | undefined {
  const starts = new Int32Array(e.ids.length);
  let byte = 0; // bytes of text before `i`
  let i = 0;
  let at = 0; // byte where the current token starts
  for (let k = 0; k < e.ids.length; k++) {
    while (byte < at && i < text.length) {
      const c = text.codePointAt(i) ?? 0;
      byte += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
      i += c >= 0x10000 ? 2 : 1;
    }
    starts[k] = i;
    at += added.get(e.ids[k] ?? 0) ?? (e.tokens[k] ?? '').length;
  }
  return at === Buffer.byteLength(text, 'utf8') ? starts : undefined;
}

function segmentsFromStarts(starts: Int32Array, cuts: readonly number[]): number[] {
  const out = new Array<number>(cuts.length + 1).fill(0);
  let seg = 0;
  for (const s of starts) {
    while (seg < cuts.length && s >= (cuts[seg] ?? 0)) seg++;
    out[seg] = (out[seg] ?? 0) + 1;
  }
  return out;
}

/** Smallest offset p such that the text before p holds more than `index` tokens, less one token. */
function startBySearch(text: string, index: number, count: (s: string) => number): number {
  let lo = 0;
  let hi = text.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (count(text.slice(0, mid + 1)) > index) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

/**
 * A record in the model's own tokens: rendered through its chat template (no generation prompt),
 * tokenized, and cut into turns, each turn a header (the template's text before what the turn
 * says: role markers, and for an assistant turn the generation prompt) and a body (what the turn
 * says, with its tool calls and the end-of-turn token that closes it).
 *
 * Where a turn's text lies in the rendering is found by rendering once more with a marker in place
 * of each content: when putting the real contents in place of the markers gives the real rendering
 * back, every span is exact; when the template changes content (Qwen3 strips reasoning, some
 * templates trim), each content is searched for in order instead.
 */
import type { Sample, Turn } from '../model';
import { chatMessages, chatTools, conversations, type SourcedMessage } from './messages';
import type { ChatMessage, ChatTokenizer } from './tokenizer';

export interface TurnTokens {
  /** Index in the conversation's turns (prompt + answer for a pair); -1 for the system prompt. */
  turn: number;
  /** The role the template saw. */
  role: string;
  weight?: number;
  /** UTF-16 offsets in `text`: turn start, body start, content start and end, turn end. */
  start: number;
  bodyStart: number;
  contentStart: number;
  contentEnd: number;
  end: number;
  /** The content was found where the template put it (else its span is empty, at bodyStart). */
  located: boolean;
  /** Token indexes: the turn's first token, its body's first token, one past its last token. */
  tokenStart: number;
  bodyTokenStart: number;
  tokenEnd: number;
}

export interface RenderedConversation {
  /** For a preference pair: which answer follows the prompt. */
  side?: 'chosen' | 'rejected';
  /** Turns of the prompt (for a pair; for a dialogue: all). */
  promptTurns: number;
  text: string;
  tokens: number;
  turns: TurnTokens[];
}

const MARK_OPEN = '\uE000';
const MARK_CLOSE = '\uE001';

function plain(messages: readonly SourcedMessage[]): ChatMessage[] {
  return messages.map(({ turn: _t, weight: _w, ...m }) => m);
}

/** The template's generation prompt (e.g. `<|im_start|>assistant\n`), '' when it has none. */
const generationPrompts = new WeakMap<ChatTokenizer, string>();
export function generationPrompt(tok: ChatTokenizer): string {
  let g = generationPrompts.get(tok);
  if (g === undefined) {
    g = '';
    try {
      const m = [{ role: 'user', content: 'x' }];
      const a = tok.render(m, { addGenerationPrompt: false });
      const b = tok.render(m, { addGenerationPrompt: true });
      if (b.startsWith(a)) g = b.slice(a.length);
    } catch {
      g = '';
    }
    generationPrompts.set(tok, g);
  }
  return g;
}

/** Content spans by the marker rendering; undefined when it does not give the real one back. */
function spansByMarkers(
  tok: ChatTokenizer,
  messages: readonly SourcedMessage[],
  tools: unknown,
  text: string,
): [number, number][] | undefined {
  if (text.includes(MARK_OPEN) || text.includes(MARK_CLOSE)) return undefined;
  let marked: string;
  try {
    marked = tok.render(
      plain(messages).map((m, i) => ({ ...m, content: `${MARK_OPEN}${i}${MARK_CLOSE}` })),
      { tools },
    );
  } catch {
    return undefined;
  }
  const spans: [number, number][] = [];
  let out = '';
  let at = 0;
  for (let i = 0; i < messages.length; i++) {
    const mark = `${MARK_OPEN}${i}${MARK_CLOSE}`;
    const k = marked.indexOf(mark, at);
    if (k === -1 || marked.indexOf(mark, k + mark.length) !== -1) return undefined;
    out += marked.slice(at, k);
    const c = messages[i]?.content ?? '';
    spans.push([out.length, out.length + c.length]);
    out += c;
    at = k + mark.length;
  }
  out += marked.slice(at);
  return out === text ? spans : undefined;
}

/** Content spans by searching each content in order. */
function spansBySearch(messages: readonly SourcedMessage[], text: string, gen: string): [number, number][] {
  const spans: [number, number][] = [];
  let cursor = 0;
  for (const m of messages) {
    let from = cursor;
    if (m.role === 'assistant' && gen) {
      const g = text.indexOf(gen, cursor);
      if (g !== -1) from = g + gen.length;
    }
    const c = m.content;
    if (!c) {
      spans.push([from, from]);
      continue;
    }
    let k = text.indexOf(c, from);
    let len = c.length;
    if (k === -1 && c.trim() && c.trim() !== c) {
      k = text.indexOf(c.trim(), from);
      len = c.trim().length;
    }
    if (k === -1) spans.push([-1, -1]);
    else {
      spans.push([k, k + len]);
      cursor = k + len;
    }
  }
  return spans;
}

/** Renders one conversation and lays its turns out in tokens. */
export function renderConversation(
  tok: ChatTokenizer,
  system: string | undefined,
  turns: readonly Turn[],
  tools: unknown,
): Omit<RenderedConversation, 'promptTurns'> {
  const messages = chatMessages(system, turns);
  const t = chatTools(tools);
  const text = tok.render(plain(messages), { tools: t });
  const gen = generationPrompt(tok);
  const spans = spansByMarkers(tok, messages, t, text) ?? spansBySearch(messages, text, gen);
  const out: TurnTokens[] = [];
  let start = 0;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    const span = spans[i] ?? [-1, -1];
    const located = span[0] >= start;
    // An unlocated content: the turn's text is taken to begin where the next one's search would.
    const cs = located ? span[0] : start;
    const ce = located ? span[1] : start;
    let bodyStart = cs;
    if (m.role === 'assistant' && gen) {
      const g = text.lastIndexOf(gen, cs - gen.length);
      if (g >= start) bodyStart = g + gen.length;
    }
    // The body ends with the end-of-turn token that closes it, before the next content.
    const next = spans.slice(i + 1).find((s) => s[0] >= ce)?.[0] ?? text.length;
    let end = ce;
    if (tok.eos) {
      const e = text.indexOf(tok.eos, ce);
      if (e !== -1 && e + tok.eos.length <= next) end = e + tok.eos.length;
    }
    const tt: TurnTokens = {
      turn: m.turn,
      role: m.role,
      start,
      bodyStart,
      contentStart: cs,
      contentEnd: ce,
      end,
      located,
      tokenStart: 0,
      bodyTokenStart: 0,
      tokenEnd: 0,
    };
    if (m.weight !== undefined) tt.weight = m.weight;
    out.push(tt);
    start = end;
  }
  const cuts: number[] = [];
  for (const x of out) cuts.push(x.start, x.bodyStart);
  cuts.push(out.length ? out[out.length - 1].end : 0);
  const seg = tok.countSegments(text, cuts);
  let n = seg[0] ?? 0;
  out.forEach((x, i) => {
    x.tokenStart = n;
    n += seg[1 + 2 * i] ?? 0;
    x.bodyTokenStart = n;
    n += seg[2 + 2 * i] ?? 0;
    x.tokenEnd = n;
  });
  n += seg[seg.length - 1] ?? 0;
  return { text, tokens: n, turns: out };
}

/** A record's conversations in tokens: one for a dialogue, prompt + chosen and prompt + rejected for a pair. */
export function recordTokens(tok: ChatTokenizer, sample: Sample): RenderedConversation[] {
  const promptTurns = sample.kind === 'preference' ? sample.prompt.length : sample.turns.length;
  return conversations(sample).map((c) => {
    const r = renderConversation(tok, sample.system, c.turns, sample.tools);
    const out: RenderedConversation = { ...r, promptTurns };
    if (c.side) out.side = c.side;
    return out;
  });
}

/**
 * Tokens of a record rendered through the chat template without a generation prompt: a
 * dialogue's; for a preference pair the longer of prompt + chosen and prompt + rejected (what a
 * trainer must fit). The cheap path for per-record figures: one render and one count per side.
 */
export function recordTokenCount(tok: ChatTokenizer, sample: Sample): number {
  let n = 0;
  for (const c of conversations(sample)) {
    const messages = plain(chatMessages(sample.system, c.turns));
    n = Math.max(n, tok.count(tok.render(messages, { tools: chatTools(sample.tools) })));
  }
  return n;
}

// --- training masks -------------------------------------------------------------------------------

/**
 * Which tokens get loss:
 * - `assistant`: the bodies of assistant turns (the default of LLaMA-Factory, TRL
 *   `assistant_only_loss`, axolotl `train_on_inputs: false`);
 * - `all`: every token (`train_on_prompt`, plain language modelling);
 * - `weights`: bodies of turns whose `weight` / `loss_weight` is above 0, and turns without a
 *   weight as under `assistant`;
 * - `asker`: the bodies of user turns (Parrot-Ask is trained on the user questions only).
 */
export type MaskPolicy = 'assistant' | 'all' | 'weights' | 'asker';
export const MASK_POLICIES: readonly MaskPolicy[] = ['assistant', 'all', 'weights', 'asker'];

export interface TurnMask {
  turn: number;
  role: string;
  /** Tokens of the turn (header + body) and of its body. */
  tokens: number;
  bodyTokens: number;
  /** Tokens of the turn that get loss; [from, to) token range of them, when any. */
  lossTokens: number;
  loss?: [number, number];
}

export interface Mask {
  policy: MaskPolicy;
  tokens: number;
  lossTokens: number;
  /** Token ranges with loss, in order, merged when adjacent. */
  ranges: [number, number][];
  turns: TurnMask[];
}

function bodyHasLoss(t: TurnTokens, policy: MaskPolicy): boolean {
  switch (policy) {
    case 'all':
      return true;
    case 'asker':
      return t.role === 'user';
    case 'weights':
      return t.weight !== undefined ? t.weight > 0 : t.role === 'assistant';
    default:
      return t.role === 'assistant';
  }
}

export function trainingMask(c: RenderedConversation, policy: MaskPolicy): Mask {
  const ranges: [number, number][] = [];
  const add = (a: number, b: number): void => {
    if (b <= a) return;
    const last = ranges[ranges.length - 1];
    if (last && last[1] === a) last[1] = b;
    else ranges.push([a, b]);
  };
  const turns: TurnMask[] = c.turns.map((t) => {
    const from = policy === 'all' ? t.tokenStart : t.bodyTokenStart;
    const has = bodyHasLoss(t, policy);
    const tm: TurnMask = {
      turn: t.turn,
      role: t.role,
      tokens: t.tokenEnd - t.tokenStart,
      bodyTokens: t.tokenEnd - t.bodyTokenStart,
      lossTokens: has ? t.tokenEnd - from : 0,
    };
    if (has && t.tokenEnd > from) {
      tm.loss = [from, t.tokenEnd];
      add(from, t.tokenEnd);
    }
    return tm;
  });
  if (policy === 'all') {
    ranges.length = 0;
    if (c.tokens) ranges.push([0, c.tokens]);
  }
  return {
    policy,
    tokens: c.tokens,
    lossTokens: ranges.reduce((a, [x, y]) => a + y - x, 0),
    ranges,
    turns,
  };
}

/**
 * Tokens of the prompt a model answers the last turn from: the turns before it rendered with the
 * generation prompt (`add_generation_prompt`), as inference and TRL's prompt/completion split see it.
 */
export function promptTokens(
  tok: ChatTokenizer,
  system: string | undefined,
  turns: readonly Turn[],
  tools: unknown,
): number {
  const messages = chatMessages(system, turns.slice(0, -1));
  return tok.count(tok.render(plain(messages), { tools: chatTools(tools), addGenerationPrompt: true }));
}

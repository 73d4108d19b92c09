/**
 * One adapter per on-disk format: record (parsed JSON) <-> canonical Sample + Layout.
 * The layout is plain JSON data (it survives structured clone and JSON round-trips), so it can be
 * kept in an edit overlay, a backup or a webview message.
 */
import type { Dialogue, FormatId, PreferencePair, Sample, Turn } from '../model';
import { contentText } from '../model';
import type { LineStyle } from './json';
import type { EntryLayout } from './recordMapping';
import { completionStartOf } from './unpaired';
import {
  isObject,
  setOwn,
  LF_V1_SPEC,
  OPENAI_SPEC,
  orderKeys,
  readMessage,
  readMessages,
  SHAREGPT_SPEC,
  TRL_SPEC,
  writeMessage,
  writeMessages,
  rolesSeen,
  type MessageLayout,
  type MessageSpec,
} from './messages';

/** How a record was written. Treat everything but `format` as opaque. */
export interface RecordLayout {
  readonly format: FormatId;
  /** Top-level key order of the original record. */
  readonly keys?: string[];
  /** Per message list (`conversations`, `messages`, `chosen`, …): how each message was written. */
  readonly lists?: Record<string, MessageLayout[]>;
  /** Format-specific details (TRL value shapes, Alpaca instruction/input split, nested unknown keys). */
  readonly extra?: Record<string, unknown>;
  /** Serialisation style of the original line (set by `parseRecord`). */
  readonly style?: LineStyle;
  /**
   * The dataset_info.json entry the record was read through (`parseRecord` with a mapping): the
   * adapter reads and writes canonical names, `writeRecord` puts the file's names back.
   */
  readonly entry?: EntryLayout;
}

interface MutableLayout {
  format: FormatId;
  keys?: string[];
  lists?: Record<string, MessageLayout[]>;
  extra?: Record<string, unknown>;
  style?: LineStyle;
  entry?: EntryLayout;
}

export class FormatError extends Error {}

type ReadResult = { sample: Sample; layout: RecordLayout } | { error: string };

function splitTop(
  v: Record<string, unknown>,
  known: readonly string[],
): { meta: Record<string, unknown>; keys: string[] } {
  const meta: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) if (!known.includes(k)) setOwn(meta, k, x);
  return { meta, keys: Object.keys(v) };
}

/** Common prefix of two message lists (compared as written on disk). */
function commonPrefix(a: readonly unknown[], b: readonly unknown[]): number {
  let n = 0;
  while (n < a.length && n < b.length && JSON.stringify(a[n]) === JSON.stringify(b[n])) n++;
  return n;
}

/* ---------------------------------------------------------------- dialogue formats */

function readSharegptLike(
  v: Record<string, unknown>,
  format: FormatId,
  known: readonly string[],
): { dialogue: Dialogue; layout: MutableLayout } | { error: string } {
  const r = readMessages(v.conversations, SHAREGPT_SPEC, 'conversations');
  if ('error' in r) return r;
  const top = splitTop(v, known);
  const d: Dialogue = { kind: 'dialogue', turns: r.turns, meta: top.meta };
  if (typeof v.id === 'string') d.id = v.id;
  else if ('id' in v) top.meta.id = v.id;
  if (typeof v.system === 'string') d.system = v.system;
  else if ('system' in v) top.meta.system = v.system;
  if ('tools' in v) d.tools = v.tools;
  return { dialogue: d, layout: { format, keys: top.keys, lists: { conversations: r.layouts } } };
}

function fixedTop(sample: Sample, e: Map<string, unknown>): void {
  if (sample.id !== undefined) e.set('id', sample.id);
}

function finish(
  e: Map<string, unknown>,
  sample: Sample,
  layout: RecordLayout,
  defaults: readonly string[],
): Record<string, unknown> {
  for (const [k, x] of Object.entries(sample.meta)) if (!e.has(k)) e.set(k, x);
  return orderKeys(e, layout.keys, defaults);
}

function systemTurns(sample: Sample, turns: readonly Turn[]): Turn[] {
  // Formats without a `system` key carry the system prompt as a first system turn.
  return sample.system !== undefined ? [{ role: 'system', content: sample.system }, ...turns] : [...turns];
}

function expectDialogue(sample: Sample, format: FormatId): Dialogue {
  if (sample.kind !== 'dialogue') throw new FormatError(`a preference pair cannot be written as ${format}`);
  return sample;
}

function expectPair(sample: Sample, format: FormatId): PreferencePair {
  if (sample.kind !== 'preference') throw new FormatError(`a dialogue cannot be written as ${format}`);
  return sample;
}

const sharegpt = {
  read(v: Record<string, unknown>): ReadResult {
    const r = readSharegptLike(v, 'sharegpt', ['id', 'conversations', 'system', 'tools']);
    if ('error' in r) return r;
    return { sample: r.dialogue, layout: r.layout };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const d = expectDialogue(sample, 'sharegpt');
    const e = new Map<string, unknown>();
    fixedTop(d, e);
    e.set('conversations', writeMessages(d.turns, SHAREGPT_SPEC, layout.lists?.conversations));
    if (d.system !== undefined) e.set('system', d.system);
    if (d.tools !== undefined) e.set('tools', d.tools);
    return finish(e, d, layout, ['id', 'conversations', 'system', 'tools']);
  },
};

function messagesFormat(format: FormatId, spec: MessageSpec) {
  return {
    read(v: Record<string, unknown>): ReadResult {
      const r = readMessages(v.messages, spec, 'messages');
      if ('error' in r) return r;
      const top = splitTop(v, ['messages', 'tools']);
      const d: Dialogue = { kind: 'dialogue', turns: r.turns, meta: top.meta };
      if ('tools' in v) d.tools = v.tools;
      return { sample: d, layout: { format, keys: top.keys, lists: { messages: r.layouts } } };
    },
    write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
      const d = expectDialogue(sample, format);
      const e = new Map<string, unknown>();
      const turns = systemTurns(d, d.turns);
      // A system prompt moved into the list shifts the message layouts by one.
      const layouts = layout.lists?.messages;
      e.set(
        'messages',
        writeMessages(turns, spec, d.system !== undefined && layouts ? [undefined, ...layouts] : layouts),
      );
      if (d.tools !== undefined) e.set('tools', d.tools);
      if (d.id !== undefined && !('id' in d.meta)) e.set('id', d.id);
      return finish(e, d, layout, ['messages', 'tools']);
    },
  };
}

const openai = messagesFormat('openai', OPENAI_SPEC);
const lfV1 = messagesFormat('llamafactory-v1', LF_V1_SPEC);

/** Alpaca joins `instruction` and `input` with a newline into the user turn (as LLaMA-Factory does). */
const ALPACA_JOIN = '\n';

const alpaca = {
  read(v: Record<string, unknown>): ReadResult {
    if (typeof v.instruction !== 'string') return { error: '"instruction" is not a string' };
    if ('input' in v && typeof v.input !== 'string') return { error: '"input" is not a string' };
    if ('output' in v && typeof v.output !== 'string') return { error: '"output" is not a string' };
    const turns: Turn[] = [];
    if ('history' in v) {
      const h = v.history;
      if (!Array.isArray(h)) return { error: '"history" is not a list of [question, answer] pairs' };
      for (let i = 0; i < h.length; i++) {
        const pair: unknown = h[i];
        if (
          !Array.isArray(pair) ||
          pair.length !== 2 ||
          typeof pair[0] !== 'string' ||
          typeof pair[1] !== 'string'
        )
          return { error: `"history"[${i}] is not a [question, answer] pair of strings` };
        turns.push({ role: 'user', content: pair[0] }, { role: 'assistant', content: pair[1] });
      }
    }
    const input = typeof v.input === 'string' ? v.input : '';
    turns.push({ role: 'user', content: input ? v.instruction + ALPACA_JOIN + input : v.instruction });
    if (typeof v.output === 'string') turns.push({ role: 'assistant', content: v.output });
    const top = splitTop(v, ['instruction', 'input', 'output', 'system', 'history']);
    const d: Dialogue = { kind: 'dialogue', turns, meta: top.meta };
    if (typeof v.system === 'string') d.system = v.system;
    else if ('system' in v) top.meta.system = v.system;
    return {
      sample: d,
      layout: {
        format: 'alpaca',
        keys: top.keys,
        extra: { instruction: v.instruction, input: v.input ?? null },
      },
    };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const d = expectDialogue(sample, 'alpaca');
    let turns = d.turns;
    let system = d.system;
    if (turns[0]?.role === 'system' && system === undefined) {
      system = contentText(turns[0].content);
      turns = turns.slice(1);
    }
    const pairs: [string, string | undefined][] = [];
    for (let i = 0; i < turns.length; i += 2) {
      const q = turns[i];
      const a = turns[i + 1];
      if (q.role !== 'user' || (a && a.role !== 'assistant'))
        throw new FormatError('an Alpaca record needs alternating user/assistant turns');
      if (!a && i + 1 < turns.length)
        throw new FormatError('an Alpaca record needs alternating user/assistant turns');
      pairs.push([contentText(q.content), a ? contentText(a.content) : undefined]);
    }
    if (pairs.length === 0) throw new FormatError('an Alpaca record needs at least one user turn');
    const last = pairs[pairs.length - 1];
    if (pairs.slice(0, -1).some((p) => p[1] === undefined))
      throw new FormatError('an Alpaca record needs an answer for every history turn');
    const [instruction, input] = splitInstruction(last[0], layout);
    const e = new Map<string, unknown>();
    e.set('instruction', instruction);
    if (input !== undefined) e.set('input', input);
    if (last[1] !== undefined) e.set('output', last[1]);
    if (system !== undefined) e.set('system', system);
    const history = pairs.slice(0, -1) as [string, string][];
    if (history.length > 0 || layout.keys?.includes('history')) e.set('history', history);
    return finish(e, d, layout, ['instruction', 'input', 'output', 'system', 'history']);
  },
};

/** Splits an edited user turn back into `instruction` and `input`, guided by how the record was written. */
function splitInstruction(text: string, layout: RecordLayout): [string, string | undefined] {
  const ex = layout.extra ?? {};
  const hadKeys = layout.keys !== undefined;
  const oi = typeof ex.instruction === 'string' ? ex.instruction : undefined;
  const on = typeof ex.input === 'string' ? ex.input : undefined;
  // New records get an empty `input`, as the Alpaca data does.
  const emptyInput = hadKeys && on === undefined ? undefined : '';
  if (oi === undefined) return [text, emptyInput];
  if (!on) return [text, on ?? emptyInput];
  if (text === oi + ALPACA_JOIN + on) return [oi, on];
  if (text.startsWith(oi + ALPACA_JOIN)) return [oi, text.slice(oi.length + ALPACA_JOIN.length)];
  if (text.endsWith(ALPACA_JOIN + on)) return [text.slice(0, -(on.length + ALPACA_JOIN.length)), on];
  return [text, ''];
}

const mtBench = {
  read(v: Record<string, unknown>): ReadResult {
    if (!Array.isArray(v.turns) || !v.turns.every((t) => typeof t === 'string'))
      return { error: '"turns" is not a list of strings' };
    const top = splitTop(v, ['turns']);
    const d: Dialogue = {
      kind: 'dialogue',
      turns: v.turns.map((t) => ({ role: 'user', content: t })),
      meta: top.meta,
    };
    return { sample: d, layout: { format: 'mt-bench', keys: top.keys } };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const d = expectDialogue(sample, 'mt-bench');
    if (d.turns.some((t) => t.role !== 'user'))
      throw new FormatError('an MT-Bench question holds only user turns');
    const e = new Map<string, unknown>();
    if (!('question_id' in d.meta) && d.id !== undefined) e.set('question_id', d.id);
    e.set(
      'turns',
      d.turns.map((t) => contentText(t.content)),
    );
    return finish(e, d, layout, ['question_id', 'category', 'turns', 'reference']);
  },
};

/* ---------------------------------------------------------------- preference formats */

function pair(
  prompt: Turn[],
  chosen: Turn[],
  rejected: Turn[],
  meta: Record<string, unknown>,
): PreferencePair {
  return { kind: 'preference', prompt, chosen, rejected, meta };
}

const sharegptPreference = {
  read(v: Record<string, unknown>): ReadResult {
    const r = readSharegptLike(v, 'sharegpt-preference', [
      'id',
      'conversations',
      'system',
      'tools',
      'chosen',
      'rejected',
    ]);
    if ('error' in r) return r;
    const c = readMessage(v.chosen, SHAREGPT_SPEC, 'chosen');
    if ('error' in c) return c;
    const j = readMessage(v.rejected, SHAREGPT_SPEC, 'rejected');
    if ('error' in j) return j;
    const d = r.dialogue;
    const p = pair(d.turns, [c.turn], [j.turn], d.meta);
    if (d.id !== undefined) p.id = d.id;
    if (d.system !== undefined) p.system = d.system;
    if (d.tools !== undefined) p.tools = d.tools;
    const layout = r.layout;
    layout.lists = { ...layout.lists, chosen: [c.layout], rejected: [j.layout] };
    return { sample: p, layout };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const p = expectPair(sample, 'sharegpt-preference');
    if (p.chosen.length !== 1 || p.rejected.length !== 1)
      throw new FormatError('a ShareGPT preference record holds exactly one chosen and one rejected message');
    const lists = layout.lists ?? {};
    const seen = rolesSeen([...(lists.conversations ?? []), ...(lists.chosen ?? [])], SHAREGPT_SPEC);
    const e = new Map<string, unknown>();
    fixedTop(p, e);
    e.set('conversations', writeMessages(p.prompt, SHAREGPT_SPEC, lists.conversations));
    e.set('chosen', writeMessage(p.chosen[0], SHAREGPT_SPEC, lists.chosen?.[0], seen));
    e.set('rejected', writeMessage(p.rejected[0], SHAREGPT_SPEC, lists.rejected?.[0], seen));
    if (p.system !== undefined) e.set('system', p.system);
    if (p.tools !== undefined) e.set('tools', p.tools);
    return finish(e, p, layout, ['id', 'conversations', 'chosen', 'rejected', 'system', 'tools']);
  },
};

const lfV1Preference = {
  read(v: Record<string, unknown>): ReadResult {
    const c = readMessages(v.chosen_messages, LF_V1_SPEC, 'chosen_messages');
    if ('error' in c) return c;
    const j = readMessages(v.rejected_messages, LF_V1_SPEC, 'rejected_messages');
    if ('error' in j) return j;
    const n = commonPrefix(v.chosen_messages as unknown[], v.rejected_messages as unknown[]);
    const top = splitTop(v, ['chosen_messages', 'rejected_messages', 'tools']);
    const p = pair(c.turns.slice(0, n), c.turns.slice(n), j.turns.slice(n), top.meta);
    if ('tools' in v) p.tools = v.tools;
    return {
      sample: p,
      layout: {
        format: 'llamafactory-v1-preference',
        keys: top.keys,
        lists: { chosen_messages: c.layouts, rejected_messages: j.layouts },
      },
    };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const p = expectPair(sample, 'llamafactory-v1-preference');
    const prompt = systemTurns(p, p.prompt);
    const e = new Map<string, unknown>();
    e.set(
      'chosen_messages',
      writeMessages([...prompt, ...p.chosen], LF_V1_SPEC, layout.lists?.chosen_messages),
    );
    e.set(
      'rejected_messages',
      writeMessages([...prompt, ...p.rejected], LF_V1_SPEC, layout.lists?.rejected_messages),
    );
    if (p.tools !== undefined) e.set('tools', p.tools);
    if (p.id !== undefined && !('id' in p.meta)) e.set('id', p.id);
    return finish(e, p, layout, ['chosen_messages', 'rejected_messages', 'tools']);
  },
};

type TrlShape = 'list' | 'string' | 'absent';

function readTrlPart(
  x: unknown,
  key: string,
  defaultRole: 'user' | 'assistant',
): { turns: Turn[]; layouts: MessageLayout[]; shape: TrlShape } | { error: string } {
  if (typeof x === 'string')
    return { turns: [{ role: defaultRole, content: x }], layouts: [], shape: 'string' };
  const r = readMessages(x, TRL_SPEC, key);
  if ('error' in r)
    return {
      error: `"${key}" is neither a string nor a list of messages` + (Array.isArray(x) ? `: ${r.error}` : ''),
    };
  return { ...r, shape: 'list' };
}

const trl = {
  read(v: Record<string, unknown>): ReadResult {
    const c = readTrlPart(v.chosen, 'chosen', 'assistant');
    if ('error' in c) return c;
    const j = readTrlPart(v.rejected, 'rejected', 'assistant');
    if ('error' in j) return j;
    const top = splitTop(v, ['prompt', 'chosen', 'rejected', 'tools']);
    const lists: Record<string, MessageLayout[]> = {};
    let prompt: Turn[] = [];
    let chosen = c.turns;
    let rejected = j.turns;
    let promptShape: TrlShape = 'absent';
    if ('prompt' in v) {
      const pr = readTrlPart(v.prompt, 'prompt', 'user');
      if ('error' in pr) return pr;
      prompt = pr.turns;
      promptShape = pr.shape;
      lists.prompt = pr.layouts;
    } else if (c.shape === 'list' && j.shape === 'list') {
      // Implicit prompt: the messages chosen and rejected share.
      const n = commonPrefix(v.chosen as unknown[], v.rejected as unknown[]);
      prompt = c.turns.slice(0, n);
      chosen = c.turns.slice(n);
      rejected = j.turns.slice(n);
    }
    lists.chosen = c.layouts;
    lists.rejected = j.layouts;
    const p = pair(prompt, chosen, rejected, top.meta);
    if ('tools' in v) p.tools = v.tools;
    return {
      sample: p,
      layout: {
        format: 'trl-preference',
        keys: top.keys,
        lists,
        extra: { prompt: promptShape, chosen: c.shape, rejected: j.shape },
      },
    };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const p = expectPair(sample, 'trl-preference');
    const ex = layout.extra ?? {};
    const lists = layout.lists ?? {};
    const shape = (k: string, dflt: TrlShape): TrlShape =>
      typeof ex[k] === 'string' ? (ex[k] as TrlShape) : dflt;
    const promptShape = layout.keys ? shape('prompt', 'absent') : 'list';
    const e = new Map<string, unknown>();
    const asText = (turns: readonly Turn[]): string => turns.map((t) => contentText(t.content)).join('');
    const prompt = systemTurns(p, p.prompt);
    if (promptShape === 'string') e.set('prompt', asText(prompt));
    else if (promptShape === 'list') e.set('prompt', writeMessages(prompt, TRL_SPEC, lists.prompt));
    for (const key of ['chosen', 'rejected'] as const) {
      const turns = p[key];
      if (shape(key, 'list') === 'string') {
        e.set(key, asText(promptShape === 'absent' ? [...prompt, ...turns] : turns));
      } else {
        e.set(
          key,
          writeMessages(promptShape === 'absent' ? [...prompt, ...turns] : turns, TRL_SPEC, lists[key]),
        );
      }
    }
    if (p.tools !== undefined) e.set('tools', p.tools);
    if (p.id !== undefined && !('id' in p.meta)) e.set('id', p.id);
    return finish(e, p, layout, ['prompt', 'chosen', 'rejected', 'tools']);
  },
};

const openaiPreference = {
  read(v: Record<string, unknown>): ReadResult {
    if (!isObject(v.input)) return { error: '"input" is not an object' };
    const inp = v.input;
    const m = readMessages(inp.messages, OPENAI_SPEC, 'input.messages');
    if ('error' in m) return m;
    const c = readMessages(v.preferred_output, OPENAI_SPEC, 'preferred_output');
    if ('error' in c) return c;
    const j = readMessages(v.non_preferred_output, OPENAI_SPEC, 'non_preferred_output');
    if ('error' in j) return j;
    const top = splitTop(v, ['input', 'preferred_output', 'non_preferred_output']);
    const p = pair(m.turns, c.turns, j.turns, top.meta);
    if ('tools' in inp) p.tools = inp.tools;
    const inputExtra: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(inp)) if (k !== 'messages' && k !== 'tools') setOwn(inputExtra, k, x);
    return {
      sample: p,
      layout: {
        format: 'openai-preference',
        keys: top.keys,
        lists: { messages: m.layouts, preferred_output: c.layouts, non_preferred_output: j.layouts },
        extra: { inputKeys: Object.keys(inp), inputExtra },
      },
    };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const p = expectPair(sample, 'openai-preference');
    const ex = layout.extra ?? {};
    const lists = layout.lists ?? {};
    const inp = new Map<string, unknown>();
    inp.set('messages', writeMessages(systemTurns(p, p.prompt), OPENAI_SPEC, lists.messages));
    if (p.tools !== undefined) inp.set('tools', p.tools);
    if (isObject(ex.inputExtra))
      for (const [k, x] of Object.entries(ex.inputExtra)) if (!inp.has(k)) inp.set(k, x);
    const e = new Map<string, unknown>();
    e.set('input', orderKeys(inp, Array.isArray(ex.inputKeys) ? (ex.inputKeys as string[]) : undefined));
    e.set('preferred_output', writeMessages(p.chosen, OPENAI_SPEC, lists.preferred_output));
    e.set('non_preferred_output', writeMessages(p.rejected, OPENAI_SPEC, lists.non_preferred_output));
    if (p.id !== undefined && !('id' in p.meta)) e.set('id', p.id);
    return finish(e, p, layout, ['input', 'preferred_output', 'non_preferred_output']);
  },
};

/* ---------------------------------------------------------------- prompt-completion formats */

type TextShape = 'list' | 'string';

/** A TRL `prompt` / `completion` value: a string (standard) or a list of messages (conversational). */
function readSide(
  x: unknown,
  key: string,
  role: 'user' | 'assistant',
): { turns: Turn[]; layouts: MessageLayout[]; shape: TextShape } | { error: string } {
  const r = readTrlPart(x, key, role);
  if ('error' in r) return r;
  return { turns: r.turns, layouts: r.layouts, shape: r.shape === 'string' ? 'string' : 'list' };
}

function writeSide(
  turns: readonly Turn[],
  shape: TextShape,
  layouts: MessageLayout[] | undefined,
  role: 'user' | 'assistant',
): unknown {
  // A string side stays a string while it is one turn of its implied role.
  if (shape === 'string' && turns.length === 1 && turns[0].role === role)
    return contentText(turns[0].content);
  return writeMessages(turns, TRL_SPEC, layouts);
}

/**
 * TRL prompt–completion (`prompt`, `completion`) and unpaired preference (the same plus a boolean
 * `label`, for KTO). The dialogue is prompt + completion; on writing, the completion is the trailing
 * run of assistant turns.
 */
function promptCompletion(format: 'trl-prompt-completion' | 'trl-kto') {
  const known = ['prompt', 'completion', 'label', 'tools'];
  return {
    read(v: Record<string, unknown>): ReadResult {
      const p = readSide(v.prompt, 'prompt', 'user');
      if ('error' in p) return p;
      const c = readSide(v.completion, 'completion', 'assistant');
      if ('error' in c) return c;
      if (format === 'trl-kto' && typeof v.label !== 'boolean')
        return { error: '"label" is not true or false' };
      const top = splitTop(v, known);
      const d: Dialogue = { kind: 'dialogue', turns: [...p.turns, ...c.turns], meta: top.meta };
      if (format === 'trl-kto') d.label = v.label as boolean;
      if ('tools' in v) d.tools = v.tools;
      return {
        sample: d,
        layout: {
          format,
          keys: top.keys,
          lists: { prompt: p.layouts, completion: c.layouts },
          extra: { prompt: p.shape, completion: c.shape },
        },
      };
    },
    write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
      const d = expectDialogue(sample, format);
      if (format === 'trl-kto' && d.label === undefined)
        throw new FormatError(
          'an unpaired preference (KTO) record needs a label: desirable (true) or not (false)',
        );
      const turns = systemTurns(d, d.turns);
      const at = completionStartOf(turns);
      if (at >= turns.length || turns[turns.length - 1].role !== 'assistant')
        throw new FormatError(
          `a ${format} record needs a completion: the dialogue must end with an assistant turn`,
        );
      const ex = layout.extra ?? {};
      const shape = (k: string): TextShape => (ex[k] === 'string' ? 'string' : 'list');
      const lists = layout.lists ?? {};
      const e = new Map<string, unknown>();
      e.set('prompt', writeSide(turns.slice(0, at), shape('prompt'), lists.prompt, 'user'));
      e.set('completion', writeSide(turns.slice(at), shape('completion'), lists.completion, 'assistant'));
      if (format === 'trl-kto') e.set('label', d.label);
      if (d.tools !== undefined) e.set('tools', d.tools);
      if (d.id !== undefined && !('id' in d.meta)) e.set('id', d.id);
      return finish(e, d, layout, known);
    },
  };
}

const trlPromptCompletion = promptCompletion('trl-prompt-completion');
const trlKto = promptCompletion('trl-kto');

/**
 * TRL stepwise supervision: `prompt` (string), `completions` (the steps, strings) and `labels`
 * (one boolean per step). Read as a user turn and one assistant turn per step, carrying its label.
 */
const trlStepwise = {
  read(v: Record<string, unknown>): ReadResult {
    if (typeof v.prompt !== 'string') return { error: '"prompt" is not a string' };
    const steps = v.completions;
    const labels = v.labels;
    if (!Array.isArray(steps) || !steps.every((s) => typeof s === 'string'))
      return { error: '"completions" is not a list of strings' };
    if (!Array.isArray(labels) || !labels.every((l) => typeof l === 'boolean'))
      return { error: '"labels" is not a list of true/false' };
    if (labels.length !== steps.length)
      return { error: `"labels" has ${labels.length} label(s) for ${steps.length} step(s)` };
    const top = splitTop(v, ['prompt', 'completions', 'labels']);
    const turns: Turn[] = [{ role: 'user', content: v.prompt }];
    steps.forEach((s: string, i) => turns.push({ role: 'assistant', content: s, label: labels[i] }));
    return {
      sample: { kind: 'dialogue', turns, meta: top.meta },
      layout: { format: 'trl-stepwise', keys: top.keys },
    };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const d = expectDialogue(sample, 'trl-stepwise');
    const [first, ...steps] = d.turns;
    if (d.system !== undefined) throw new FormatError('a TRL stepwise record has no system prompt');
    if (first?.role !== 'user' || steps.length === 0 || steps.some((t) => t.role !== 'assistant'))
      throw new FormatError('a TRL stepwise record is one user prompt followed by assistant steps');
    const unlabelled = steps.findIndex((t) => t.label === undefined);
    if (unlabelled >= 0) throw new FormatError(`step ${unlabelled + 1} has no label (true or false)`);
    const e = new Map<string, unknown>();
    e.set('prompt', contentText(first.content));
    e.set(
      'completions',
      steps.map((t) => contentText(t.content)),
    );
    e.set(
      'labels',
      steps.map((t) => t.label),
    );
    if (d.id !== undefined && !('id' in d.meta)) e.set('id', d.id);
    return finish(e, d, layout, ['prompt', 'completions', 'labels']);
  },
};

/** The label key of a LLaMA-Factory KTO record: `label` (as in kto_en_demo) or `kto_tag`. */
function ktoLabelKey(v: Record<string, unknown>): 'label' | 'kto_tag' | undefined {
  if (typeof v.label === 'boolean') return 'label';
  if (typeof v.kto_tag === 'boolean') return 'kto_tag';
  return undefined;
}

/**
 * LLaMA-Factory unpaired preference (KTO): a conversation whose last message is the completion, and
 * a boolean label (`kto_tag` column; `label` in kto_en_demo). The conversation is `messages` with
 * `role`/`content` (as kto_en_demo) or ShareGPT `conversations` with `from`/`value`.
 */
const lfKto = {
  read(v: Record<string, unknown>): ReadResult {
    const list = Array.isArray(v.messages) ? 'messages' : 'conversations';
    const spec = list === 'messages' ? TRL_SPEC : SHAREGPT_SPEC;
    const labelKey = ktoLabelKey(v);
    if (!labelKey) return { error: '"label" (or "kto_tag") is not true or false' };
    const r = readMessages(v[list], spec, list);
    if ('error' in r) return r;
    const top = splitTop(v, [list, labelKey, 'system', 'tools']);
    const d: Dialogue = { kind: 'dialogue', turns: r.turns, meta: top.meta, label: v[labelKey] as boolean };
    if (typeof v.system === 'string') d.system = v.system;
    else if ('system' in v) top.meta.system = v.system;
    if ('tools' in v) d.tools = v.tools;
    return {
      sample: d,
      layout: {
        format: 'llamafactory-kto',
        keys: top.keys,
        lists: { [list]: r.layouts },
        extra: { list, labelKey },
      },
    };
  },
  write(sample: Sample, layout: RecordLayout): Record<string, unknown> {
    const d = expectDialogue(sample, 'llamafactory-kto');
    if (d.label === undefined)
      throw new FormatError(
        'an unpaired preference (KTO) record needs a label: desirable (true) or not (false)',
      );
    const ex = layout.extra ?? {};
    const list = ex.list === 'conversations' ? 'conversations' : 'messages';
    const labelKey = ex.labelKey === 'kto_tag' ? 'kto_tag' : 'label';
    const spec = list === 'messages' ? TRL_SPEC : SHAREGPT_SPEC;
    const e = new Map<string, unknown>();
    fixedTop(d, e);
    const layouts = layout.lists?.[list];
    const keepSystemKey = list === 'conversations' || layout.keys?.includes('system') === true;
    const turns = keepSystemKey ? d.turns : systemTurns(d, d.turns);
    e.set(
      list,
      writeMessages(
        turns,
        spec,
        !keepSystemKey && d.system !== undefined && layouts ? [undefined, ...layouts] : layouts,
      ),
    );
    e.set(labelKey, d.label);
    if (keepSystemKey && d.system !== undefined) e.set('system', d.system);
    if (d.tools !== undefined) e.set('tools', d.tools);
    return finish(e, d, layout, ['id', list, labelKey, 'system', 'tools']);
  },
};

interface Adapter {
  read(v: Record<string, unknown>): ReadResult;
  write(sample: Sample, layout: RecordLayout): Record<string, unknown>;
}

export const ADAPTERS: Record<FormatId, Adapter> = {
  sharegpt,
  openai,
  'llamafactory-v1': lfV1,
  alpaca,
  'mt-bench': mtBench,
  'sharegpt-preference': sharegptPreference,
  'llamafactory-v1-preference': lfV1Preference,
  'trl-preference': trl,
  'openai-preference': openaiPreference,
  'trl-kto': trlKto,
  'llamafactory-kto': lfKto,
  'trl-prompt-completion': trlPromptCompletion,
  'trl-stepwise': trlStepwise,
};

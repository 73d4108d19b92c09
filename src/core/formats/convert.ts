/**
 * Conversion of a canonical sample into another on-disk format, with a report of everything the
 * target format cannot hold.
 */
import type { Dialogue, FormatId, Part, PreferencePair, Sample, Turn } from '../model';
import { contentText, isKnownRole } from '../model';
import { ADAPTERS, FormatError } from './adapters';
import { serializeLike, type LineStyle } from './json';
import { MEDIA_COLUMNS, partsToPlaceholders, placeholdersToParts } from './media';
import { FORMATS } from './catalog';
import { isObject } from './messages';

export interface ConvertOptions {
  /** Keep top-level and per-message fields the target format does not define (default: drop and report). */
  keepUnknown?: boolean;
  /** 1-based record number, used where the target needs a number (MT-Bench `question_id`). */
  index?: number;
}

type ToolStyle = 'openai' | 'sharegpt' | 'lf' | 'none';

interface Target {
  format: FormatId;
  tools: ToolStyle;
  /** How content parts can be written: OpenAI parts, LLaMA-Factory parts, or text only. */
  parts: 'openai' | 'lf' | 'text';
  /** Which weight key, if any. */
  weight: 'openai' | 'lf' | 'none';
  name: boolean;
  roles: readonly string[];
}

const TARGETS: Record<FormatId, Target> = {
  sharegpt: {
    format: 'sharegpt',
    tools: 'sharegpt',
    parts: 'text',
    weight: 'none',
    name: false,
    roles: ['system', 'user', 'assistant', 'function_call', 'observation'],
  },
  'sharegpt-preference': {
    format: 'sharegpt-preference',
    tools: 'sharegpt',
    parts: 'text',
    weight: 'none',
    name: false,
    roles: ['system', 'user', 'assistant', 'function_call', 'observation'],
  },
  openai: {
    format: 'openai',
    tools: 'openai',
    parts: 'openai',
    weight: 'openai',
    name: true,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  'openai-preference': {
    format: 'openai-preference',
    tools: 'openai',
    parts: 'openai',
    weight: 'none',
    name: true,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  'trl-preference': {
    format: 'trl-preference',
    tools: 'openai',
    parts: 'openai',
    weight: 'none',
    name: true,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  'llamafactory-v1': {
    format: 'llamafactory-v1',
    tools: 'lf',
    parts: 'lf',
    weight: 'lf',
    name: false,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  'llamafactory-v1-preference': {
    format: 'llamafactory-v1-preference',
    tools: 'lf',
    parts: 'lf',
    weight: 'lf',
    name: false,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  alpaca: {
    format: 'alpaca',
    tools: 'none',
    parts: 'text',
    weight: 'none',
    name: false,
    roles: ['system', 'user', 'assistant'],
  },
  'mt-bench': {
    format: 'mt-bench',
    tools: 'none',
    parts: 'text',
    weight: 'none',
    name: false,
    roles: ['system', 'user', 'assistant'],
  },
  'trl-kto': {
    format: 'trl-kto',
    tools: 'openai',
    parts: 'openai',
    weight: 'none',
    name: true,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  'trl-prompt-completion': {
    format: 'trl-prompt-completion',
    tools: 'openai',
    parts: 'openai',
    weight: 'none',
    name: true,
    roles: ['system', 'user', 'assistant', 'tool'],
  },
  'llamafactory-kto': {
    format: 'llamafactory-kto',
    tools: 'sharegpt',
    parts: 'text',
    weight: 'none',
    name: false,
    roles: ['system', 'user', 'assistant', 'function_call', 'observation'],
  },
  'trl-stepwise': {
    format: 'trl-stepwise',
    tools: 'none',
    parts: 'text',
    weight: 'none',
    name: false,
    roles: ['user', 'assistant'],
  },
};

/** The unpaired preference (KTO) formats: a dialogue plus a desirable / undesirable label. */
export function isUnpairedFormat(f: FormatId): boolean {
  return f === 'trl-kto' || f === 'llamafactory-kto';
}

/** Why `role` cannot be a role of the target (undefined when it can). */
function foreignRole(t: Target, role: string, where: string): string | undefined {
  if (t.roles.includes(role)) return undefined;
  return `${where}: role '${role}' is not a ${t.format} role (kept as is${isKnownRole(role) ? '' : ', unknown role'})`;
}

/**
 * What a record already in format `to` holds that the format has no room for (roles it does not
 * have, like "gpt" in OpenAI chat): it is copied as it is, so these are reported as a conversion's
 * losses would be.
 */
export function foreignRoles(sample: Sample, to: FormatId): string[] {
  const t = TARGETS[to];
  const turns =
    sample.kind === 'dialogue' ? sample.turns : [...sample.prompt, ...sample.chosen, ...sample.rejected];
  const out: string[] = [];
  turns.forEach((turn, i) => {
    const why = foreignRole(t, turn.role, `turn ${i + 1}`);
    if (why) out.push(why);
  });
  return out;
}

class Converter {
  readonly losses: string[] = [];
  private callSeq = 0;

  constructor(
    readonly t: Target,
    readonly opts: ConvertOptions,
  ) {}

  lose(msg: string): void {
    this.losses.push(msg);
  }

  /** ShareGPT function_call/observation turns <-> OpenAI tool_calls/tool messages. */
  tools(turns: Turn[], label: (i: number) => string): Turn[] {
    const out: Turn[] = [];
    const pending: string[] = [];
    const unanswered = (where: string): void => {
      if (pending.length && this.t.tools === 'openai')
        this.lose(
          `${where}: ${pending.length} tool call(s) have no tool result of their own (${this.t.format} wants one per call id)`,
        );
      pending.length = 0;
    };
    let callTurn = '';
    const openaiCalls = (calls: { name: string; arguments: unknown }[], where: string): unknown[] => {
      unanswered(callTurn);
      callTurn = where;
      return calls.map((c) => {
        const id = `call_${++this.callSeq}`;
        pending.push(id);
        return {
          id,
          type: 'function',
          function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) },
        };
      });
    };
    turns.forEach((source, i) => {
      let turn = source;
      // LLaMA-Factory v1 tool_call parts become OpenAI tool_calls for every other target.
      if (this.t.tools !== 'lf') {
        const lifted = liftToolCallParts(turn);
        // A part that is not {"name", "arguments"} JSON stays a part (and is reported by content()).
        if (lifted && lifted !== 'bad')
          turn = { ...lifted.turn, toolCalls: openaiCalls(lifted.calls, label(i)) };
      }
      if (this.t.tools === 'lf') {
        const lf = this.toLfToolCalls(turn, label(i));
        if (lf) {
          out.push(lf);
          return;
        }
      } else if (this.t.tools === 'openai' && turn.role === 'function_call') {
        const calls = parseCalls(contentText(turn.content));
        if (calls) {
          out.push({ ...turn, role: 'assistant', content: '', toolCalls: openaiCalls(calls, label(i)) });
          return;
        }
        this.lose(`${label(i)}: function call is not JSON {"name", "arguments"}; kept as role function_call`);
      } else if (
        this.t.tools === 'openai' &&
        (turn.role === 'observation' || (turn.role === 'tool' && turn.toolCallId === undefined))
      ) {
        const next: Turn = { ...turn, role: 'tool' };
        const id = pending.shift();
        if (id !== undefined) next.toolCallId = id;
        out.push(next);
        return;
      } else if (this.t.tools === 'sharegpt' && turn.toolCalls !== undefined) {
        const plain = plainCalls(turn.toolCalls);
        const text = contentText(turn.content);
        if (text) out.push({ ...turn, toolCalls: undefined, toolCallId: undefined });
        else if (Array.isArray(turn.content) && turn.content.length)
          this.lose(
            `${label(i)}: ${turn.content.length} non-text content part(s) (${turn.content.map((p) => p.type).join(', ')}) beside the tool call cannot be represented in ${this.t.format} (dropped)`,
          );
        out.push({ role: 'function_call', content: JSON.stringify(plain.length === 1 ? plain[0] : plain) });
        return;
      } else if (this.t.tools === 'sharegpt' && turn.role === 'tool') {
        out.push({ ...turn, role: 'observation', toolCallId: undefined });
        return;
      }
      out.push(turn);
    });
    unanswered(callTurn);
    return out;
  }

  /**
   * A turn in LLaMA-Factory v1's tool-call shape: OpenAI tool_calls and ShareGPT function_call turns
   * become an assistant turn with `tool_call` parts (`{"name", "arguments"}` as Python's json.dumps
   * writes it, as LLaMA-Factory's own converter does); observations become `tool` turns.
   */
  private toLfToolCalls(turn: Turn, where: string): Turn | undefined {
    let calls: { name: unknown; arguments: unknown }[] | undefined;
    let rest: Part[] = [];
    if (turn.toolCalls !== undefined) {
      calls = plainCalls(turn.toolCalls);
      rest =
        typeof turn.content === 'string'
          ? turn.content
            ? [{ type: 'text', text: turn.content }]
            : []
          : turn.content;
    } else if (turn.role === 'function_call') {
      calls = parseCalls(contentText(turn.content));
      if (!calls) {
        this.lose(`${where}: function call is not JSON {"name", "arguments"}; kept as role function_call`);
        return undefined;
      }
    } else if (turn.role === 'observation') {
      return { ...turn, role: 'tool' };
    } else return undefined;
    const parts: Part[] = calls.map((c) => ({
      type: 'tool_call',
      value: serializeLike({ name: c.name, arguments: c.arguments ?? {} }, PYTHON_STYLE),
    }));
    return {
      ...turn,
      role: 'assistant',
      content: [...rest, ...parts],
      toolCalls: undefined,
      toolCallId: undefined,
    };
  }

  /** Adapts one turn's fields to the target, reporting what is dropped. */
  turn(turn: Turn, where: string): Turn {
    const t = this.t;
    const out: Turn = { role: turn.role, content: this.content(turn.content, where) };
    // A tool-calling turn whose only other parts were dropped has no content (OpenAI: null).
    if (Array.isArray(out.content) && out.content.length === 0 && turn.toolCalls !== undefined)
      out.content = '';
    const foreign = foreignRole(t, turn.role, where);
    if (foreign) this.lose(foreign);
    if (turn.weight !== undefined) {
      if (t.weight === 'lf') out.weight = turn.weight;
      else if (t.weight === 'openai' && turn.role === 'assistant' && (turn.weight === 0 || turn.weight === 1))
        out.weight = turn.weight;
      else if (t.weight === 'openai' && turn.role !== 'assistant' && turn.weight === 0) {
        /* user/system turns are never trained on in OpenAI fine-tuning: weight 0 is implied */
      } else if (!(turn.role !== 'assistant' && turn.weight === 0))
        this.lose(`${where}: weight ${turn.weight} cannot be represented in ${t.format} (dropped)`);
    }
    if (turn.name !== undefined) {
      if (t.name) out.name = turn.name;
      else this.lose(`${where}: name '${turn.name}' cannot be represented in ${t.format} (dropped)`);
    }
    if (turn.toolCalls !== undefined) {
      if (t.tools === 'openai') out.toolCalls = turn.toolCalls;
      else this.lose(`${where}: tool calls cannot be represented in ${t.format} (dropped)`);
    }
    if (turn.toolCallId !== undefined && t.tools === 'openai') out.toolCallId = turn.toolCallId;
    if (turn.label !== undefined && t.format === 'trl-stepwise') out.label = turn.label;
    if (turn.meta && Object.keys(turn.meta).length > 0) {
      if (this.opts.keepUnknown) out.meta = { ...turn.meta };
      else this.lose(`${where}: field(s) ${Object.keys(turn.meta).join(', ')} dropped`);
    }
    return out;
  }

  content(c: Turn['content'], where: string): Turn['content'] {
    if (typeof c === 'string') return c;
    const t = this.t;
    const nonText = c.filter((p) => typeof p.text !== 'string');
    if (t.parts === 'text') {
      if (nonText.length > 0)
        this.lose(
          `${where}: ${nonText.length} non-text content part(s) (${nonText.map((p) => p.type).join(', ')}) cannot be represented in ${t.format} (dropped)`,
        );
      return contentText(c);
    }
    // Between OpenAI `{type:'text', text}` and LLaMA-Factory `{type, value}` only text parts carry over.
    const kept: Part[] = [];
    for (const p of c) {
      if (typeof p.text === 'string') kept.push({ type: 'text', text: p.text });
      else if (isOpenAiPart(p) === (t.parts === 'openai')) kept.push({ ...p });
      else
        this.lose(
          `${where}: content part of type '${p.type}' cannot be represented in ${t.format} (dropped)`,
        );
    }
    return kept;
  }

  turns(turns: Turn[], prefix: string): Turn[] {
    const label = (i: number): string => `${prefix}turn ${i + 1}`;
    return this.tools(turns, label).map((turn, i) => this.turn(turn, label(i)));
  }

  meta(sample: Sample): Record<string, unknown> {
    const keys = Object.keys(sample.meta);
    if (this.opts.keepUnknown || keys.length === 0) return { ...sample.meta };
    // LLaMA-Factory reads media columns in every formatting (v1 turns them into parts: see toDialogue).
    const native: readonly string[] =
      this.t.format === 'mt-bench' ? ['question_id', 'category', 'reference'] : MEDIA_COLUMNS;
    const kept: Record<string, unknown> = {};
    const dropped: string[] = [];
    for (const k of keys) {
      if (native.includes(k)) kept[k] = sample.meta[k];
      else dropped.push(k);
    }
    if (dropped.length)
      this.lose(`field(s) ${dropped.join(', ')} cannot be represented in ${this.t.format} (dropped)`);
    return kept;
  }
}

/** Python's `json.dumps` defaults (`", "`, `": "`, `ensure_ascii`), which LLaMA-Factory writes. */
const PYTHON_STYLE: LineStyle = { colon: ': ', comma: ', ', ascii: true, upperHex: false };

/** OpenAI tool_calls as plain `{name, arguments}` objects (arguments parsed when they are JSON). */
function plainCalls(toolCalls: unknown): { name: unknown; arguments: unknown }[] {
  const calls = Array.isArray(toolCalls) ? (toolCalls as unknown[]) : [];
  return calls.map((c) => {
    const fn = isObject(c) && isObject(c.function) ? c.function : {};
    let args: unknown = fn.arguments;
    if (typeof args === 'string') {
      try {
        args = JSON.parse(args);
      } catch {
        /* keep the raw text */
      }
    }
    return { name: fn.name, arguments: args };
  });
}

/**
 * The `tool_call` parts of a LLaMA-Factory v1 turn, parsed, and the turn without them; undefined
 * when it has none, 'bad' when one is not `{"name", "arguments"}` JSON.
 */
function liftToolCallParts(
  turn: Turn,
): { turn: Turn; calls: { name: string; arguments: unknown }[] } | 'bad' | undefined {
  if (typeof turn.content === 'string' || !turn.content.some((p) => p.type === 'tool_call')) return undefined;
  const calls: { name: string; arguments: unknown }[] = [];
  const rest: Part[] = [];
  for (const p of turn.content) {
    if (p.type !== 'tool_call') {
      rest.push(p);
      continue;
    }
    const parsed = typeof p.value === 'string' ? parseCalls(p.value) : undefined;
    if (!parsed) return 'bad';
    calls.push(...parsed);
  }
  const content: Turn['content'] = rest.every((p) => typeof p.text === 'string') ? contentText(rest) : rest;
  return { turn: { ...turn, content }, calls };
}

function isOpenAiPart(p: Part): boolean {
  // LLaMA-Factory v1 writes `{type: "image_url", value}`; OpenAI `{type: "image_url", image_url: {url}}`.
  if (p.type === 'image_url' && typeof p.value === 'string' && !('image_url' in p)) return false;
  return p.type === 'image_url' || p.type === 'input_audio' || p.type === 'file' || 'image_url' in p;
}

function parseCalls(text: string): { name: string; arguments: unknown }[] | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const list = Array.isArray(v) ? v : [v];
  const out: { name: string; arguments: unknown }[] = [];
  for (const c of list) {
    if (!isObject(c) || typeof c.name !== 'string') return undefined;
    out.push({ name: c.name, arguments: c.arguments });
  }
  return out.length ? out : undefined;
}

/** ShareGPT `tools` (a JSON string of function schemas) <-> OpenAI `tools` ([{type:'function', function}]). */
function convertTools(tools: unknown, to: ToolStyle, c: Converter): unknown {
  if (tools === undefined) return undefined;
  if (to === 'none') {
    c.lose(`tool definitions cannot be represented in ${c.t.format} (dropped)`);
    return undefined;
  }
  let list: unknown = tools;
  if (typeof tools === 'string') {
    try {
      list = JSON.parse(tools);
    } catch {
      if (to === 'sharegpt') return tools;
      c.lose('tool definitions are not valid JSON (kept as a string)');
      return tools;
    }
  }
  if (to === 'lf') return typeof tools === 'string' ? tools : serializeLike(list, PYTHON_STYLE);
  if (!Array.isArray(list)) return tools;
  if (to === 'openai')
    return (list as unknown[]).map((f: unknown) =>
      isObject(f) && f.type === 'function' ? f : { type: 'function', function: f },
    );
  const plain = (list as unknown[]).map((f: unknown) =>
    isObject(f) && f.type === 'function' && isObject(f.function) ? f.function : f,
  );
  return JSON.stringify(plain);
}

function liftSystem(
  turns: Turn[],
  system: string | undefined,
): { turns: Turn[]; system: string | undefined } {
  if (system === undefined && turns[0]?.role === 'system' && typeof turns[0].content === 'string')
    return { turns: turns.slice(1), system: turns[0].content };
  return { turns, system };
}

/** Stepwise supervision into another format: consecutive labelled steps become one assistant turn. */
function joinSteps(turns: readonly Turn[], c: Converter): Turn[] {
  const out: Turn[] = [];
  let joined = 0;
  let good = 0;
  let labelled = 0;
  for (const turn of turns) {
    if (turn.label === undefined) {
      out.push(turn);
      continue;
    }
    labelled++;
    if (turn.label) good++;
    const { label: _label, ...rest } = turn;
    const prev = out[out.length - 1];
    if (prev && prev.role === 'assistant' && turn.role === 'assistant' && typeof prev.content === 'string') {
      prev.content = prev.content + '\n' + contentText(turn.content);
      joined++;
    } else out.push({ ...rest });
  }
  if (labelled) {
    c.lose(
      `step labels cannot be represented in ${c.t.format} (dropped: ${good} correct, ${labelled - good} incorrect)` +
        (joined ? `; ${labelled} steps joined into one assistant turn by newlines` : ''),
    );
  }
  return out;
}

function toDialogue(sample: Dialogue, c: Converter): Dialogue {
  const t = c.t;
  const steps = t.format === 'trl-stepwise' ? sample.turns : joinSteps(sample.turns, c);
  // v1 media parts become placeholders + columns for every other target, and back for v1.
  const media =
    t.parts === 'lf' ? { turns: steps, meta: sample.meta } : partsToPlaceholders(steps, sample.meta);
  let turns = c.turns(media.turns, '');
  let system = sample.system;
  if (t.format === 'sharegpt' || t.format === 'alpaca') ({ turns, system } = liftSystem(turns, system));
  if (t.format === 'alpaca') turns = alpacaTurns(turns, c);
  if (t.format === 'mt-bench') {
    if (system !== undefined) c.lose('system prompt cannot be represented in mt-bench (dropped)');
    system = undefined;
    const systems = turns.filter((x) => x.role === 'system').length;
    const others = turns.filter((x) => x.role !== 'user' && x.role !== 'system').length;
    if (systems) c.lose(`${systems} system turn(s) cannot be represented in mt-bench (dropped)`);
    if (others) c.lose(`${others} non-user turn(s) dropped (MT-Bench questions hold only user turns)`);
    turns = turns.filter((x) => x.role === 'user');
  }
  let meta = c.meta({ ...sample, meta: media.meta });
  if (t.parts === 'lf') ({ turns, meta } = placeholdersToParts(turns, meta, (m) => c.lose(m)));
  const out: Dialogue = { kind: 'dialogue', turns, meta };
  if (system !== undefined) out.system = system;
  const tools = convertTools(sample.tools, t.tools, c);
  if (tools !== undefined) out.tools = tools;
  if (sample.id !== undefined) out.id = sample.id;
  if (sample.label !== undefined) {
    if (isUnpairedFormat(t.format)) out.label = sample.label;
    else
      c.lose(
        `the KTO label (${sample.label ? 'desirable' : 'undesirable'}) cannot be represented in ${t.format} (dropped)`,
      );
  }
  if (t.format === 'mt-bench' && !('question_id' in out.meta)) {
    const n = Number(sample.id);
    out.meta = {
      question_id: sample.id !== undefined && Number.isInteger(n) ? n : (c.opts.index ?? sample.id ?? null),
      ...out.meta,
    };
    delete out.id;
  }
  return out;
}

function alpacaTurns(turns: Turn[], c: Converter): Turn[] {
  const out: Turn[] = [];
  turns.forEach((turn, i) => {
    if (turn.role !== 'user' && turn.role !== 'assistant') {
      c.lose(`turn ${i + 1} (${turn.role}) cannot be represented in alpaca (dropped)`);
      return;
    }
    const prev = out[out.length - 1];
    if (!prev && turn.role === 'assistant') {
      c.lose(
        `turn ${i + 1}: an assistant turn before any user turn cannot be represented in alpaca (dropped)`,
      );
      return;
    }
    if (prev && prev.role === turn.role) {
      c.lose(
        `turn ${i + 1}: consecutive ${turn.role} turns merged into one (alpaca alternates user/assistant)`,
      );
      prev.content = contentText(prev.content) + '\n' + contentText(turn.content);
      return;
    }
    out.push({ ...turn });
  });
  if (out.length === 0) throw new FormatError('no user turn to write as an Alpaca instruction');
  if (out[out.length - 1]?.role === 'user') {
    c.lose('the last user turn has no answer: alpaca output left empty');
    out.push({ role: 'assistant', content: '' });
  }
  return out;
}

function toPreference(sample: PreferencePair, c: Converter): PreferencePair {
  const t = c.t;
  let prompt = c.turns(sample.prompt, 'prompt ');
  let chosen = c.turns(sample.chosen, 'chosen ');
  let rejected = c.turns(sample.rejected, 'rejected ');
  let system = sample.system;
  if (t.format === 'sharegpt-preference') {
    ({ turns: prompt, system } = liftSystem(prompt, system));
    const single = (turns: Turn[], which: string): Turn[] => {
      if (turns.length <= 1) return turns;
      c.lose(
        `${which}: ${turns.length} messages; a ShareGPT preference record holds one, only the last is kept`,
      );
      return turns.slice(-1);
    };
    chosen = single(chosen, 'chosen');
    rejected = single(rejected, 'rejected');
    if (chosen.length === 0 || rejected.length === 0)
      throw new FormatError('a ShareGPT preference record needs one chosen and one rejected message');
  }
  const out: PreferencePair = { kind: 'preference', prompt, chosen, rejected, meta: c.meta(sample) };
  if (system !== undefined) out.system = system;
  const tools = convertTools(sample.tools, t.tools, c);
  if (tools !== undefined) out.tools = tools;
  if (sample.id !== undefined) out.id = sample.id;
  return out;
}

/**
 * Converts a sample into the JSON value of a record in format `to`, listing what was lost.
 * A dialogue cannot become a preference pair (throws FormatError); a preference pair becomes a
 * dialogue of its prompt and chosen answer (the rejected answer is reported as lost), or, in an
 * unpaired (KTO) format, two records: `value` (chosen, desirable) and `more[0]` (rejected).
 * Unpaired records become pairs across a file with `UnpairedPairer`.
 */
export function convertSample(
  sample: Sample,
  to: FormatId,
  opts: ConvertOptions = {},
): { value: unknown; more?: unknown[]; losses: string[] } {
  const t = TARGETS[to];
  const c = new Converter(t, opts);
  let canonical: Sample;
  let more: Sample | undefined;
  if (FORMATS[to].preference) {
    if (sample.kind !== 'preference')
      throw new FormatError(
        sample.label !== undefined
          ? `an unpaired (KTO) record cannot become ${to} on its own: a pair is made of two records with the same prompt and opposite labels`
          : `a dialogue cannot be converted to ${to}: a preference record needs a chosen and a rejected answer`,
      );
    canonical = toPreference(sample, c);
  } else if (sample.kind === 'preference') {
    const d: Dialogue = {
      kind: 'dialogue',
      turns: [...sample.prompt, ...sample.chosen],
      meta: sample.meta,
    };
    if (sample.system !== undefined) d.system = sample.system;
    if (sample.tools !== undefined) d.tools = sample.tools;
    if (sample.id !== undefined) d.id = sample.id;
    if (isUnpairedFormat(to)) {
      // A pair is two unpaired examples: the chosen answer desirable, the rejected one not.
      c.lose(
        'the pair becomes two unpaired records (chosen: label true, rejected: label false); that they answered the same prompt as a pair is not kept',
      );
      canonical = toDialogue({ ...d, label: true }, c);
      more = toDialogue({ ...d, turns: [...sample.prompt, ...sample.rejected], label: false }, c);
    } else {
      c.lose(
        'the rejected answer cannot be represented in a dialogue format (dropped; kept prompt + chosen)',
      );
      canonical = toDialogue(d, c);
    }
  } else {
    if (isUnpairedFormat(to) && sample.label === undefined)
      throw new FormatError(
        `a dialogue without a desirable/undesirable label cannot be converted to ${to} (convert preference pairs, or label the records)`,
      );
    canonical = toDialogue(sample, c);
  }
  const value = ADAPTERS[to].write(canonical, { format: to });
  if (more) return { value, more: [ADAPTERS[to].write(more, { format: to })], losses: c.losses };
  return { value, losses: c.losses };
}

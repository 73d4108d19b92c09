/**
 * Reading and writing one on-disk message (ShareGPT `{from, value}`, OpenAI/TRL `{role, content}`,
 * LLaMA-Factory v1 `{role, content: [{type, value}]}`) to and from a canonical `Turn`,
 * remembering how it was written.
 */
import type { Part, Role, Turn } from '../model';

/** How one message was written: its key order, its raw role name and the shape of its content. */
export interface MessageLayout {
  keys: string[];
  role: string;
  shape: 'string' | 'parts' | 'null' | 'absent';
}

export interface MessageSpec {
  roleKey: 'from' | 'role';
  textKey: 'value' | 'content';
  /** Key of the per-message weight, if the format has one. */
  weightKey?: 'weight' | 'loss_weight';
  /** Content arrays: OpenAI parts (`{type:'text', text}`), LLaMA-Factory parts (`{type, value}`), or none. */
  parts: 'openai' | 'lf' | 'none';
  /** OpenAI's `name`, `tool_calls`, `tool_call_id`. */
  openaiFields: boolean;
  /** Raw role name -> canonical role. Names not listed are kept verbatim. */
  toCanonical: Record<string, Role>;
  /** Canonical role -> raw role name for new messages. */
  toRaw: Record<string, string>;
}

const OPENAI_ROLES: Record<string, Role> = {
  user: 'user',
  assistant: 'assistant',
  system: 'system',
  developer: 'system',
  tool: 'tool',
};

export const SHAREGPT_SPEC: MessageSpec = {
  roleKey: 'from',
  textKey: 'value',
  parts: 'none',
  openaiFields: false,
  toCanonical: {
    human: 'user',
    user: 'user',
    gpt: 'assistant',
    assistant: 'assistant',
    system: 'system',
    function_call: 'function_call',
    observation: 'observation',
    tool: 'tool',
  },
  toRaw: {
    user: 'human',
    assistant: 'gpt',
    system: 'system',
    function_call: 'function_call',
    observation: 'observation',
    tool: 'observation',
  },
};

export const OPENAI_SPEC: MessageSpec = {
  roleKey: 'role',
  textKey: 'content',
  weightKey: 'weight',
  parts: 'openai',
  openaiFields: true,
  toCanonical: OPENAI_ROLES,
  toRaw: { user: 'user', assistant: 'assistant', system: 'system', tool: 'tool', observation: 'tool' },
};

/** TRL messages: OpenAI-shaped, without OpenAI's `weight`. */
export const TRL_SPEC: MessageSpec = { ...OPENAI_SPEC, weightKey: undefined };

export const LF_V1_SPEC: MessageSpec = {
  roleKey: 'role',
  textKey: 'content',
  weightKey: 'loss_weight',
  parts: 'lf',
  openaiFields: false,
  toCanonical: { ...OPENAI_ROLES, observation: 'tool' },
  toRaw: { user: 'user', assistant: 'assistant', system: 'system', tool: 'tool', observation: 'tool' },
};

/**
 * Sets an own property, also for keys like `__proto__` (a plain assignment would set the object's
 * prototype instead, and the key would be lost on writing).
 */
export function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  // Only `__proto__` is an accessor of Object.prototype: any other key is assigned as it is (3x
  // cheaper than defining it, and the same own, writable, enumerable property).
  if (k === '__proto__')
    Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
  else o[k] = v;
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readLfPart(p: Record<string, unknown>): Part {
  const out: Record<string, unknown> = {};
  const renameValue = p.type === 'text' && typeof p.value === 'string' && !('text' in p);
  for (const [k, v] of Object.entries(p)) setOwn(out, renameValue && k === 'value' ? 'text' : k, v);
  return out as Part;
}

function writeLfPart(p: Part): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const rename = typeof p.text === 'string' && !('value' in p);
  for (const [k, v] of Object.entries(p)) setOwn(out, rename && k === 'text' ? 'value' : k, v);
  return out;
}

/** Reads one message; `where` names it in errors ("message 3"). */
export function readMessage(
  m: unknown,
  spec: MessageSpec,
  where: string,
): { turn: Turn; layout: MessageLayout } | { error: string } {
  if (!isObject(m)) return { error: `${where} is not an object` };
  const rawRole = m[spec.roleKey];
  if (typeof rawRole !== 'string') return { error: `${where} has no "${spec.roleKey}" string` };
  const role: Role = Object.prototype.hasOwnProperty.call(spec.toCanonical, rawRole)
    ? spec.toCanonical[rawRole]
    : rawRole;
  const raw = m[spec.textKey];
  let content: Turn['content'];
  let shape: MessageLayout['shape'];
  if (typeof raw === 'string') {
    content = raw;
    shape = 'string';
  } else if (raw === undefined && spec.parts !== 'none') {
    content = '';
    shape = 'absent';
  } else if (raw === null && spec.parts !== 'none') {
    content = '';
    shape = 'null';
  } else if (Array.isArray(raw) && spec.parts !== 'none') {
    const parts: Part[] = [];
    for (let i = 0; i < raw.length; i++) {
      const p: unknown = raw[i];
      if (!isObject(p) || typeof p.type !== 'string')
        return { error: `${where}: content part ${i + 1} is not an object with a "type"` };
      parts.push(spec.parts === 'lf' ? readLfPart(p) : (p as Part));
    }
    content = parts;
    shape = 'parts';
  } else {
    const expected = spec.parts === 'none' ? 'a string' : 'a string or a list of parts';
    return { error: `${where}: "${spec.textKey}" should be ${expected}` };
  }
  const turn: Turn = { role, content };
  let meta: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(m)) {
    if (k === spec.roleKey || k === spec.textKey) continue;
    if (spec.weightKey && k === spec.weightKey && typeof v === 'number') turn.weight = v;
    else if (spec.openaiFields && k === 'name' && typeof v === 'string') turn.name = v;
    else if (spec.openaiFields && k === 'tool_calls' && v !== undefined) turn.toolCalls = v;
    else if (spec.openaiFields && k === 'tool_call_id' && typeof v === 'string') turn.toolCallId = v;
    else setOwn((meta ??= {}), k, v);
  }
  if (meta) turn.meta = meta;
  return { turn, layout: { keys: Object.keys(m), role: rawRole, shape } };
}

/** Orders `entries` by `preferred` first, then `defaults`, then insertion order. */
export function orderKeys(
  entries: Map<string, unknown>,
  preferred: readonly string[] | undefined,
  defaults: readonly string[] = [],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const list of [preferred ?? [], defaults, [...entries.keys()]])
    for (const k of list) if (entries.has(k) && !Object.hasOwn(out, k)) setOwn(out, k, entries.get(k));
  return out;
}

/** The raw role name to write for `role`, preferring how this message / this record wrote it. */
export function rawRoleFor(
  role: Role,
  spec: MessageSpec,
  layout: MessageLayout | undefined,
  seen: Record<string, string>,
): string {
  if (layout) {
    const had = Object.prototype.hasOwnProperty.call(spec.toCanonical, layout.role)
      ? spec.toCanonical[layout.role]
      : layout.role;
    if (had === role) return layout.role;
  }
  if (Object.prototype.hasOwnProperty.call(seen, role)) return seen[role];
  if (Object.prototype.hasOwnProperty.call(spec.toRaw, role)) return spec.toRaw[role];
  return role;
}

/** Canonical role -> raw name, for every message of a record (first one wins). */
export function rolesSeen(
  layouts: readonly (MessageLayout | undefined)[],
  spec: MessageSpec,
): Record<string, string> {
  const seen: Record<string, string> = {};
  for (const l of layouts) {
    if (!l) continue;
    const canon = Object.prototype.hasOwnProperty.call(spec.toCanonical, l.role)
      ? spec.toCanonical[l.role]
      : l.role;
    if (canon !== undefined && !(canon in seen)) seen[canon] = l.role;
  }
  return seen;
}

function writeContent(turn: Turn, spec: MessageSpec, layout: MessageLayout | undefined): unknown {
  const c = turn.content;
  if (spec.parts === 'none') {
    return typeof c === 'string' ? c : c.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
  }
  if (Array.isArray(c)) return spec.parts === 'lf' ? c.map(writeLfPart) : c.map((p) => ({ ...p }));
  if (c === '' && layout?.shape === 'null') return null;
  if (c === '' && layout?.shape === 'absent') return undefined;
  // A new assistant message that only calls tools has `content: null` (OpenAI's own shape).
  if (c === '' && !layout && spec.openaiFields && turn.toolCalls !== undefined) return null;
  if (spec.parts === 'lf' || layout?.shape === 'parts')
    return spec.parts === 'lf' ? [{ type: 'text', value: c }] : [{ type: 'text', text: c }];
  return c;
}

/** Writes one message, in the key order and style of `layout` (the message it came from), if any. */
export function writeMessage(
  turn: Turn,
  spec: MessageSpec,
  layout: MessageLayout | undefined,
  seen: Record<string, string>,
): Record<string, unknown> {
  const e = new Map<string, unknown>();
  e.set(spec.roleKey, rawRoleFor(turn.role, spec, layout, seen));
  const content = writeContent(turn, spec, layout);
  if (content !== undefined) e.set(spec.textKey, content);
  if (spec.openaiFields) {
    if (turn.name !== undefined) e.set('name', turn.name);
    if (turn.toolCalls !== undefined) e.set('tool_calls', turn.toolCalls);
    if (turn.toolCallId !== undefined) e.set('tool_call_id', turn.toolCallId);
  }
  if (spec.weightKey && turn.weight !== undefined) e.set(spec.weightKey, turn.weight);
  for (const [k, v] of Object.entries(turn.meta ?? {})) if (!e.has(k)) e.set(k, v);
  return orderKeys(e, layout?.keys);
}

/** Reads a list of messages. */
export function readMessages(
  list: unknown,
  spec: MessageSpec,
  what: string,
): { turns: Turn[]; layouts: MessageLayout[] } | { error: string } {
  if (!Array.isArray(list)) return { error: `"${what}" is not a list` };
  const turns: Turn[] = [];
  const layouts: MessageLayout[] = [];
  for (let i = 0; i < list.length; i++) {
    const r = readMessage(list[i], spec, `${what}[${i}]`);
    if ('error' in r) return r;
    turns.push(r.turn);
    layouts.push(r.layout);
  }
  return { turns, layouts };
}

export function writeMessages(
  turns: readonly Turn[],
  spec: MessageSpec,
  layouts: readonly (MessageLayout | undefined)[] | undefined,
): Record<string, unknown>[] {
  const seen = rolesSeen(layouts ?? [], spec);
  return turns.map((t, i) => writeMessage(t, spec, layouts?.[i], seen));
}

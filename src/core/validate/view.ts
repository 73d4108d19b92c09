/**
 * A light, format-aware look at one parsed record for the lint rules: the turns with the JSON
 * pointers of their role and content, the preference answers, the id. Built straight from the
 * parsed JSON (no canonical model) so that it stays cheap enough to run on every line, and
 * defensive: it never throws on records that fail the schema.
 */
import type { FormatId } from '../model';

export interface TurnView {
  role: unknown;
  content: unknown;
  rolePtr: string;
  contentPtr: string;
  /** The role is implied by the format (Alpaca, MT-Bench, TRL strings): no role rules. */
  implied: boolean;
  /** An assistant message that calls tools (OpenAI `tool_calls`, LLaMA-Factory v1 `tool_call` parts). */
  toolCalls: boolean;
}

export interface RecordView {
  /** Turns of the dialogue, or the prompt of a preference pair. */
  turns: TurnView[];
  /** Preference answers (the compared turns only). */
  chosen?: TurnView[];
  rejected?: TurnView[];
  chosenPtr?: string;
  rejectedPtr?: string;
  /** Turns checked for alternation / system position (prompt + chosen for pairs). */
  sequence: TurnView[];
  /** A supervised fine-tuning dialogue: must end with an assistant turn. */
  sft: boolean;
  system?: unknown;
  id?: unknown;
  idPtr?: string;
  /** Role names the format defines. */
  roles: ReadonlySet<string>;
  /** Whether `content` string/list drift matters (message formats). */
  contentKinds: boolean;
}

export const SHAREGPT_ROLES: ReadonlySet<string> = new Set([
  'human',
  'gpt',
  'system',
  'function_call',
  'observation',
  'user',
  'assistant',
  'tool',
]);
export const OPENAI_ROLES: ReadonlySet<string> = new Set([
  'system',
  'developer',
  'user',
  'assistant',
  'tool',
  'function',
]);
export const V1_ROLES: ReadonlySet<string> = new Set(['system', 'user', 'assistant', 'tool']);
const NO_ROLES: ReadonlySet<string> = new Set();

/** Role classes for alternation: U user, A assistant, C tool call, O tool result, S system. */
export type RoleClass = 'U' | 'A' | 'C' | 'O' | 'S';

const CLASS: Record<string, RoleClass> = {
  human: 'U',
  user: 'U',
  gpt: 'A',
  assistant: 'A',
  function_call: 'C',
  observation: 'O',
  tool: 'O',
  function: 'O',
  system: 'S',
  developer: 'S',
};

export function roleClass(t: TurnView): RoleClass | undefined {
  if (typeof t.role !== 'string') return undefined;
  const c = CLASS[t.role];
  return c === 'A' && t.toolCalls ? 'C' : c;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** LLaMA-Factory v1 writes a tool call as a `{type: "tool_call", value}` content part. */
function hasToolCallPart(content: unknown): boolean {
  return Array.isArray(content) && content.some((p) => isObj(p) && p.type === 'tool_call');
}

function messages(list: unknown, ptr: string, roleKey: string, contentKey: string): TurnView[] {
  if (!Array.isArray(list)) return [];
  const out: TurnView[] = [];
  for (let i = 0; i < list.length; i++) {
    const m: unknown = list[i];
    if (!isObj(m)) continue;
    out.push({
      role: m[roleKey],
      content: m[contentKey],
      rolePtr: `${ptr}/${i}/${roleKey}`,
      contentPtr: `${ptr}/${i}/${contentKey}`,
      implied: false,
      toolCalls: (Array.isArray(m.tool_calls) && m.tool_calls.length > 0) || hasToolCallPart(m[contentKey]),
    });
  }
  return out;
}

function single(m: unknown, ptr: string): TurnView[] {
  if (!isObj(m)) return [];
  return [
    {
      role: m.from,
      content: m.value,
      rolePtr: `${ptr}/from`,
      contentPtr: `${ptr}/value`,
      implied: false,
      toolCalls: false,
    },
  ];
}

function implied(role: string, content: unknown, ptr: string): TurnView {
  return { role, content, rolePtr: ptr, contentPtr: ptr, implied: true, toolCalls: false };
}

function trlSide(v: unknown, ptr: string, role: string): TurnView[] {
  if (typeof v === 'string') return [implied(role, v, ptr)];
  return messages(v, ptr, 'role', 'content');
}

export function recordView(format: FormatId, v: Record<string, unknown>): RecordView {
  switch (format) {
    case 'sharegpt': {
      const turns = messages(v.conversations, '/conversations', 'from', 'value');
      return {
        turns,
        sequence: turns,
        sft: true,
        system: v.system,
        id: v.id,
        idPtr: '/id',
        roles: SHAREGPT_ROLES,
        contentKinds: false,
      };
    }
    case 'sharegpt-preference': {
      const turns = messages(v.conversations, '/conversations', 'from', 'value');
      const chosen = single(v.chosen, '/chosen');
      const rejected = single(v.rejected, '/rejected');
      return {
        turns,
        chosen,
        rejected,
        chosenPtr: '/chosen',
        rejectedPtr: '/rejected',
        sequence: [...turns, ...chosen],
        sft: false,
        system: v.system,
        id: v.id,
        idPtr: '/id',
        roles: SHAREGPT_ROLES,
        contentKinds: false,
      };
    }
    case 'openai':
    case 'llamafactory-v1': {
      const turns = messages(v.messages, '/messages', 'role', 'content');
      return {
        turns,
        sequence: turns,
        sft: true,
        id: v.id,
        idPtr: '/id',
        roles: format === 'openai' ? OPENAI_ROLES : V1_ROLES,
        contentKinds: true,
      };
    }
    case 'openai-preference': {
      const input = isObj(v.input) ? v.input : {};
      const turns = messages(input.messages, '/input/messages', 'role', 'content');
      const chosen = messages(v.preferred_output, '/preferred_output', 'role', 'content');
      const rejected = messages(v.non_preferred_output, '/non_preferred_output', 'role', 'content');
      return {
        turns,
        chosen,
        rejected,
        chosenPtr: '/preferred_output',
        rejectedPtr: '/non_preferred_output',
        sequence: [...turns, ...chosen],
        sft: false,
        id: v.id,
        idPtr: '/id',
        roles: OPENAI_ROLES,
        contentKinds: true,
      };
    }
    case 'trl-preference': {
      const explicit = 'prompt' in v;
      const turns = explicit ? trlSide(v.prompt, '/prompt', 'user') : [];
      let chosen = trlSide(v.chosen, '/chosen', 'assistant');
      let rejected = trlSide(v.rejected, '/rejected', 'assistant');
      const sequence = [...turns, ...chosen];
      if (!explicit) {
        // Implicit prompt: the shared start of both lists is the prompt; the last message is the answer.
        chosen = chosen.slice(-1);
        rejected = rejected.slice(-1);
      }
      return {
        turns,
        chosen,
        rejected,
        chosenPtr: '/chosen',
        rejectedPtr: '/rejected',
        sequence,
        sft: false,
        id: v.id,
        idPtr: '/id',
        roles: OPENAI_ROLES,
        contentKinds: Array.isArray(v.chosen),
      };
    }
    case 'llamafactory-v1-preference': {
      const all = messages(v.chosen_messages, '/chosen_messages', 'role', 'content');
      const rej = messages(v.rejected_messages, '/rejected_messages', 'role', 'content');
      return {
        turns: all.slice(0, -1),
        chosen: all.slice(-1),
        rejected: rej.slice(-1),
        chosenPtr: '/chosen_messages',
        rejectedPtr: '/rejected_messages',
        sequence: all,
        sft: false,
        id: v.id,
        idPtr: '/id',
        roles: V1_ROLES,
        contentKinds: true,
      };
    }
    case 'alpaca': {
      const turns: TurnView[] = [];
      if (Array.isArray(v.history)) {
        v.history.forEach((pair: unknown, i) => {
          if (!Array.isArray(pair)) return;
          turns.push(implied('user', pair[0], `/history/${i}/0`));
          turns.push(implied('assistant', pair[1], `/history/${i}/1`));
        });
      }
      const instruction = implied('user', v.instruction, '/instruction');
      turns.push(instruction);
      // The input is optional context appended to the instruction: it only counts for duplicates.
      const input = v.input;
      if (typeof input === 'string' && input !== '')
        turns.push({ ...implied('user', input, '/input'), role: 'input' });
      turns.push(implied('assistant', v.output, '/output'));
      return {
        turns,
        sequence: [],
        sft: false,
        system: v.system,
        id: v.id,
        idPtr: '/id',
        roles: NO_ROLES,
        contentKinds: false,
      };
    }
    case 'trl-kto':
    case 'trl-prompt-completion': {
      const turns = [
        ...trlSide(v.prompt, '/prompt', 'user'),
        ...trlSide(v.completion, '/completion', 'assistant'),
      ];
      return {
        turns,
        sequence: turns,
        sft: true,
        id: v.id,
        idPtr: '/id',
        roles: OPENAI_ROLES,
        contentKinds: Array.isArray(v.completion),
      };
    }
    case 'llamafactory-kto': {
      const turns = Array.isArray(v.messages)
        ? messages(v.messages, '/messages', 'role', 'content')
        : messages(v.conversations, '/conversations', 'from', 'value');
      return {
        turns,
        sequence: turns,
        sft: true,
        system: v.system,
        id: v.id,
        idPtr: '/id',
        roles: SHAREGPT_ROLES,
        contentKinds: false,
      };
    }
    case 'trl-stepwise': {
      const steps = Array.isArray(v.completions) ? v.completions : [];
      const turns = [
        implied('user', v.prompt, '/prompt'),
        ...steps.map((t: unknown, i) => implied('assistant', t, `/completions/${i}`)),
      ];
      return {
        turns,
        sequence: [],
        sft: false,
        id: v.id,
        idPtr: '/id',
        roles: NO_ROLES,
        contentKinds: false,
      };
    }
    case 'mt-bench': {
      const turns = Array.isArray(v.turns)
        ? v.turns.map((t: unknown, i) => implied('user', t, `/turns/${i}`))
        : [];
      return {
        turns,
        sequence: [],
        sft: false,
        id: v.question_id,
        idPtr: '/question_id',
        roles: NO_ROLES,
        contentKinds: false,
      };
    }
  }
}

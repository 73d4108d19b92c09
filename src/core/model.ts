/**
 * The canonical in-memory model every on-disk format maps to (see ARCHITECTURE.md).
 * Adapters in `formats/` read a record into this shape and remember how it was written,
 * so that writing it back changes only what the user changed.
 */

/** The roles the canonical model knows. */
export type KnownRole = 'system' | 'user' | 'assistant' | 'tool' | 'function_call' | 'observation';

/**
 * A turn's role. A role name the readers do not recognise (e.g. ShareGPT `"from": "bing"`) is kept
 * verbatim instead of being changed into a known one, so it round-trips; use `isKnownRole` to tell.
 */
export type Role = KnownRole | (string & Record<never, never>);

export const ROLES: readonly Role[] = ['system', 'user', 'assistant', 'tool', 'function_call', 'observation'];

/** Whether `role` is one the canonical model knows (as opposed to an unknown name kept verbatim). */
export function isKnownRole(role: string): role is KnownRole {
  return (ROLES as readonly string[]).includes(role);
}

/** A content part (OpenAI `{type:'text', text}` / LLaMA-Factory v1 `{type, value}` / images, …). */
export interface Part {
  type: string;
  /** Text of a text part, whatever key the format used for it. */
  text?: string;
  /** Every other key of the part, kept as is. */
  [key: string]: unknown;
}

export interface Turn {
  role: Role;
  content: string | Part[];
  /** OpenAI `weight` / LLaMA-Factory `loss_weight`. */
  weight?: number;
  /** OpenAI `name`. */
  name?: string;
  /** OpenAI `tool_calls` (kept as is). */
  toolCalls?: unknown;
  /** OpenAI `tool_call_id`. */
  toolCallId?: string;
  /** TRL stepwise supervision: whether this step (an assistant turn) is correct. */
  label?: boolean;
  /** Fields of the on-disk message the canonical model has no place for (kept and written back). */
  meta?: Record<string, unknown>;
}

export type FormatId =
  | 'sharegpt'
  | 'openai'
  | 'llamafactory-v1'
  | 'trl-preference'
  | 'openai-preference'
  | 'sharegpt-preference'
  | 'llamafactory-v1-preference'
  | 'alpaca'
  | 'mt-bench'
  | 'trl-kto'
  | 'llamafactory-kto'
  | 'trl-prompt-completion'
  | 'trl-stepwise';

export type CapoStrategy = 'neglect' | 'hallucinate' | 'misread';

export interface Dialogue {
  kind: 'dialogue';
  id?: string;
  system?: string;
  turns: Turn[];
  tools?: unknown;
  /**
   * Unpaired preference (KTO): whether the completion (the last assistant turn) is desirable.
   * Absent on ordinary dialogues.
   */
  label?: boolean;
  /** Fields the canonical model has no place for (kept and written back). */
  meta: Record<string, unknown>;
}

export interface PreferencePair {
  kind: 'preference';
  id?: string;
  system?: string;
  prompt: Turn[];
  chosen: Turn[];
  rejected: Turn[];
  tools?: unknown;
  meta: Record<string, unknown> & { strategy?: CapoStrategy };
}

export type Sample = Dialogue | PreferencePair;

/** Plain text of a turn's content, whatever its shape. */
export function contentText(content: Turn['content']): string {
  if (typeof content === 'string') return content;
  return content.map((p) => (typeof p.text === 'string' ? p.text : '')).join('');
}

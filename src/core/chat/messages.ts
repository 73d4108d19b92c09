/**
 * A record in the canonical model -> the messages and tools a chat template renders, the way the
 * trainers hand them over (LLaMA-Factory, TRL, transformers' `apply_chat_template`):
 * - the system prompt is the first message (`system`);
 * - content parts are joined into their text (images and other non-text parts are left out);
 * - ShareGPT `function_call` turns become assistant messages with `tool_calls` (its JSON
 *   `{"name", "arguments"}`), `observation` turns become `tool` messages;
 * - `tools` given as a JSON string (as ShareGPT / LLaMA-Factory write them) are parsed.
 */
import type { PreferencePair, Sample, Turn } from '../model';
import { contentText } from '../model';
import type { ChatMessage } from './tokenizer';

/** A template message and the canonical turn it came from (-1: the system prompt). */
export interface SourcedMessage extends ChatMessage {
  /** Index of the turn in its list (`turns`, or prompt + answer for a pair); -1 for the system prompt. */
  turn: number;
  /** Its loss weight (`weight` / `loss_weight`), when the record gives one. */
  weight?: number;
}

function toolCall(value: string): unknown[] | undefined {
  try {
    const v: unknown = JSON.parse(value);
    if (v && typeof v === 'object' && !Array.isArray(v) && typeof (v as { name?: unknown }).name === 'string')
      return [{ type: 'function', function: v }];
    if (
      Array.isArray(v) &&
      v.every((c) => c && typeof c === 'object' && typeof (c as { name?: unknown }).name === 'string')
    )
      return v.map((c: unknown) => ({ type: 'function', function: c }));
  } catch {
    // Not JSON: the turn stays plain text.
  }
  return undefined;
}

export function turnMessage(t: Turn, index: number): SourcedMessage {
  const text = contentText(t.content);
  let m: SourcedMessage;
  if (t.role === 'function_call') {
    const calls = toolCall(text);
    m = calls
      ? { role: 'assistant', content: '', tool_calls: calls, turn: index }
      : { role: 'assistant', content: text, turn: index };
  } else if (t.role === 'observation') {
    m = { role: 'tool', content: text, turn: index };
  } else {
    m = { role: t.role, content: text, turn: index };
    if (Array.isArray(t.toolCalls) && t.toolCalls.length) m.tool_calls = t.toolCalls as unknown[];
  }
  if (t.name !== undefined) m.name = t.name;
  if (t.toolCallId !== undefined) m.tool_call_id = t.toolCallId;
  if (t.weight !== undefined) m.weight = t.weight;
  return m;
}

export function chatMessages(system: string | undefined, turns: readonly Turn[]): SourcedMessage[] {
  const out: SourcedMessage[] = [];
  if (system !== undefined && system !== '') out.push({ role: 'system', content: system, turn: -1 });
  turns.forEach((t, i) => out.push(turnMessage(t, i)));
  return out;
}

export function chatTools(tools: unknown): unknown {
  if (typeof tools === 'string') {
    if (tools.trim() === '') return undefined;
    try {
      return JSON.parse(tools) as unknown;
    } catch {
      return undefined;
    }
  }
  return tools ?? undefined;
}

/** The conversations a record is trained on: one for a dialogue, prompt + each answer for a pair. */
export function conversations(sample: Sample): { side?: 'chosen' | 'rejected'; turns: Turn[] }[] {
  if (sample.kind === 'dialogue') return [{ turns: sample.turns }];
  const p: PreferencePair = sample;
  return [
    { side: 'chosen', turns: [...p.prompt, ...p.chosen] },
    { side: 'rejected', turns: [...p.prompt, ...p.rejected] },
  ];
}

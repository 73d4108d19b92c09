import type { FormatId } from '../model';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The format of one parsed record, decided from its keys only (cheap: runs on every line).
 * Returns undefined when the record matches no known format.
 */
export function detectRecordFormat(v: unknown): FormatId | undefined {
  if (!isObject(v)) return undefined;
  if ('question_id' in v && Array.isArray(v.turns)) return 'mt-bench';
  if (isObject(v.input) && 'preferred_output' in v && 'non_preferred_output' in v) return 'openai-preference';
  if ('chosen_messages' in v || 'rejected_messages' in v) return 'llamafactory-v1-preference';
  if (Array.isArray(v.conversations)) {
    if ('chosen' in v || 'rejected' in v) return 'sharegpt-preference';
    return 'sharegpt';
  }
  if ('chosen' in v && 'rejected' in v) return 'trl-preference';
  if (Array.isArray(v.messages)) {
    const messages: unknown[] = v.messages;
    const first = messages.find((m): m is Record<string, unknown> => isObject(m) && Array.isArray(m.content));
    if (first && Array.isArray(first.content)) {
      const part: unknown = first.content[0];
      if (isObject(part) && 'value' in part && !('text' in part)) return 'llamafactory-v1';
    }
    return 'openai';
  }
  if ('instruction' in v && 'output' in v) return 'alpaca';
  return undefined;
}

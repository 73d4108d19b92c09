import type { FormatId } from '../model';

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Whether a `messages` list is written the LLaMA-Factory v1 way (`{type, value}` parts, `loss_weight`). */
function looksLikeLfV1(messages: unknown[]): boolean {
  for (const m of messages) {
    if (!isObject(m)) continue;
    if ('loss_weight' in m) return true;
    if (Array.isArray(m.content)) {
      const part: unknown = m.content[0];
      if (isObject(part)) return 'value' in part && !('text' in part);
    }
  }
  return false;
}

/**
 * The format of one parsed record, decided from its keys only (cheap: runs on every line).
 * Returns undefined when the record matches no known format.
 */
export function detectRecordFormat(v: unknown): FormatId | undefined {
  if (!isObject(v)) return undefined;
  if ('question_id' in v && Array.isArray(v.turns)) return 'mt-bench';
  if (isObject(v.input) && 'preferred_output' in v && 'non_preferred_output' in v) return 'openai-preference';
  if (Array.isArray(v.chosen_messages) || Array.isArray(v.rejected_messages))
    return 'llamafactory-v1-preference';
  // Unpaired preference (KTO) and TRL's prompt–completion shapes, before the plain dialogue keys.
  if ('prompt' in v && Array.isArray(v.completions) && Array.isArray(v.labels)) return 'trl-stepwise';
  if ('prompt' in v && 'completion' in v) return 'label' in v ? 'trl-kto' : 'trl-prompt-completion';
  if (
    (Array.isArray(v.messages) || Array.isArray(v.conversations)) &&
    (typeof v.label === 'boolean' || typeof v.kto_tag === 'boolean')
  )
    return 'llamafactory-kto';
  if (Array.isArray(v.conversations)) {
    if (isObject(v.chosen) || isObject(v.rejected)) return 'sharegpt-preference';
    return 'sharegpt';
  }
  if ('chosen' in v && 'rejected' in v) return 'trl-preference';
  if (Array.isArray(v.messages)) return looksLikeLfV1(v.messages) ? 'llamafactory-v1' : 'openai';
  if (typeof v.instruction === 'string' && ('output' in v || 'input' in v)) return 'alpaca';
  return undefined;
}

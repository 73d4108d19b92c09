/**
 * The training-mask preview messages between the extension host and the dialogue editor webview
 * (see docs/tokens.md). Shared by both bundles like protocol.ts, which includes these in its unions;
 * every message from the webview is checked here at runtime.
 */

import type { MaskPolicy } from './core/chat/lengths';

/** Which tokens get loss (core/chat/lengths.ts). */
export type MaskPolicyId = MaskPolicy;
export const MASK_POLICY_IDS: readonly MaskPolicyId[] = ['assistant', 'all', 'weights', 'asker'];

export const MASK_STRING_KEYS = [
  'toggle',
  'toggleHint',
  'policy',
  'assistant',
  'all',
  'weights',
  'asker',
  'computing',
  'summary',
  'summaryCut',
  'fits',
  'turnTokens',
  'turnLoss',
  'turnNoLoss',
  'turnCut',
  'turnTruncated',
  'cutLine',
  'side',
] as const;
export type MaskStringKey = (typeof MASK_STRING_KEYS)[number];
export type MaskStrings = Record<MaskStringKey, string>;

import type { MaskConversationView, MaskSection, MaskTurnView } from './core/chat/preview';

export type { MaskConversationView, MaskSection, MaskTurnView };

export type MaskHostMessage =
  | { type: 'maskInit'; strings: MaskStrings }
  | {
      type: 'maskPreview';
      line: number;
      policy: MaskPolicyId;
      /** `o200k`, or the model folder's name. */
      tokenizer: string;
      cutoff?: number;
      conversations: MaskConversationView[];
    }
  | { type: 'maskPreview'; line: number; policy: MaskPolicyId; error: string };

export type MaskWebviewMessage = { type: 'maskRequest'; line: number; policy: MaskPolicyId };

export function isMaskPolicyId(v: unknown): v is MaskPolicyId {
  return typeof v === 'string' && (MASK_POLICY_IDS as readonly string[]).includes(v);
}

/** Checks a mask message from the webview; undefined when it is not a valid one. */
export function parseMaskMessage(m: Record<string, unknown>): MaskWebviewMessage | undefined {
  if (m.type !== 'maskRequest') return undefined;
  const line = m.line;
  if (typeof line !== 'number' || !Number.isSafeInteger(line) || line < 0 || !isMaskPolicyId(m.policy))
    return undefined;
  return { type: 'maskRequest', line, policy: m.policy };
}

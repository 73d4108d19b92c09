/**
 * Lengths in a model's own tokens: the tokenizer + chat template (`loadChatTokenizer`, loadable
 * in any thread), per-record counts, turn spans, training masks and what a cutoff cuts.
 */
export { loadChatTokenizer, TokenizerError, type ChatTokenizer, type ChatMessage } from './tokenizer';
export {
  recordTokenCount,
  recordTokens,
  promptTokens,
  trainingMask,
  MASK_POLICIES,
  type MaskPolicy,
  type Mask,
  type TurnMask,
  type RenderedConversation,
  type TurnTokens,
} from './lengths';
export { checkCutoff, type CutFinding, type CutKind, type CutoffResult } from './cutoff';
export { ChatTokenCollector, type ChatTokenStats, type RecordTokens } from './stats';

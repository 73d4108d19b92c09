/**
 * The training-mask preview of one record: for each conversation it is trained on (a dialogue; the
 * prompt + chosen and prompt + rejected of a pair), each turn's tokens, which of them get loss under
 * a mask policy, and what a cutoff drops. What the dialogue editor shades on the turns.
 */
import type { Sample } from '../model';
import { cutPoint } from './cutoff';
import { recordTokens, trainingMask, type MaskPolicy, type RenderedConversation } from './lengths';
import type { ChatTokenizer } from './tokenizer';

/** Where a turn of the preview is shown in the pane: `system` is the system prompt block. */
export type MaskSection = 'system' | 'turns' | 'prompt' | 'chosen' | 'rejected';

export interface MaskTurnView {
  section: MaskSection;
  /** Index in its section (0 for the system prompt). */
  index: number;
  /** The role the chat template saw. */
  role: string;
  /** Tokens of the turn (its header and body) and the range of them in the conversation. */
  tokens: number;
  tokenStart: number;
  tokenEnd: number;
  /** Tokens of the turn that get loss under the policy (before the cutoff). */
  lossTokens: number;
  /** Tokens of the turn that get loss under the policy, ignoring the cutoff. */
  lossTokensUncut: number;
  /** [from, to) token range of the turn that gets loss (ignoring the cutoff), when any. */
  loss?: [number, number];
  /** Tokens of the turn the cutoff drops (0: the turn is kept whole). */
  dropped: number;
  weight?: number;
}

export interface MaskConversationView {
  /** For a preference pair: which answer follows the prompt. */
  side?: 'chosen' | 'rejected';
  tokens: number;
  /** Tokens with loss after the cutoff, and without it. */
  lossTokens: number;
  lossTokensUncut: number;
  turns: MaskTurnView[];
  /** Where the cutoff falls, when the conversation is longer than it. */
  cut?: {
    section: MaskSection;
    index: number;
    /** Tokens of that turn kept / in all. */
    kept: number;
    of: number;
  };
}

function placeOf(c: RenderedConversation, turn: number): { section: MaskSection; index: number } {
  if (turn < 0) return { section: 'system', index: 0 };
  if (!c.side) return { section: 'turns', index: turn };
  return turn < c.promptTurns
    ? { section: 'prompt', index: turn }
    : { section: c.side, index: turn - c.promptTurns };
}

/** Tokens of [from, to) that lie before `cutoff` (all of them without one). */
function kept(from: number, to: number, cutoff: number | undefined): number {
  return Math.max(0, Math.min(to, cutoff ?? to) - from);
}

export function maskPreview(
  tok: ChatTokenizer,
  sample: Sample,
  policy: MaskPolicy,
  cutoff?: number,
): MaskConversationView[] {
  return recordTokens(tok, sample).map((c) => {
    const mask = trainingMask(c, policy);
    const turns: MaskTurnView[] = c.turns.map((t, i) => {
      const m = mask.turns[i];
      const loss = m?.loss;
      const v: MaskTurnView = {
        ...placeOf(c, t.turn),
        role: t.role,
        tokens: t.tokenEnd - t.tokenStart,
        tokenStart: t.tokenStart,
        tokenEnd: t.tokenEnd,
        lossTokens: loss ? kept(loss[0], loss[1], cutoff) : 0,
        lossTokensUncut: m?.lossTokens ?? 0,
        dropped:
          cutoff === undefined ? 0 : t.tokenEnd - t.tokenStart - kept(t.tokenStart, t.tokenEnd, cutoff),
      };
      if (loss) v.loss = [loss[0], loss[1]];
      if (t.weight !== undefined) v.weight = t.weight;
      return v;
    });
    const out: MaskConversationView = {
      tokens: c.tokens,
      lossTokens: mask.ranges.reduce((n, [a, b]) => n + kept(a, b, cutoff), 0),
      lossTokensUncut: mask.lossTokens,
      turns,
    };
    if (c.side) out.side = c.side;
    if (cutoff !== undefined && c.tokens > cutoff) {
      const p = cutPoint(tok, c, cutoff);
      if (p) out.cut = { ...placeOf(c, p.turn), kept: p.kept, of: p.of };
    }
    return out;
  });
}

/**
 * The `tokens/cutoff` rule: what truncation to the training length does to a record, in the
 * model's own tokens (see core/chat). It runs only when a cutoff is set, and marks where the cut
 * falls: from the first dropped character of the turn's content to the end of that content.
 */
import { checkCutoff, type CutFinding } from '../chat/cutoff';
import { loadChatTokenizer, type ChatTokenizer } from '../chat/tokenizer';
import { contentText, type Sample, type Turn } from '../model';
import { unmapPointer, type RecordMapping } from '../formats/recordMapping';
import { locate, type Span } from './locate';
import type { RecordView, TurnView } from './view';

export interface TokenRuleOptions {
  /** `o200k`, or a model folder (tokenizer.json + tokenizer_config.json). */
  tokenizer: string;
  /** The training length in tokens. */
  cutoff: number;
}

function viewText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  let s = '';
  for (const p of content as unknown[]) {
    if (p && typeof p === 'object') {
      const o = p as { text?: unknown; value?: unknown };
      if (typeof o.text === 'string') s += o.text;
      else if (typeof o.value === 'string') s += o.value;
    }
  }
  return s;
}

/** The view's turn for the canonical turn number `turn` of `turns`: same text, nearest position. */
function viewTurn(
  candidates: readonly TurnView[],
  turns: readonly Turn[],
  turn: number,
): TurnView | undefined {
  const t = turns[turn];
  if (!t) return undefined;
  const text = contentText(t.content);
  let best: TurnView | undefined;
  let dist = Infinity;
  candidates.forEach((v, i) => {
    if (viewText(v.content) === text && Math.abs(i - turn) < dist) {
      best = v;
      dist = Math.abs(i - turn);
    }
  });
  return best ?? candidates[turn];
}

/** The column in `text` of the `offset`-th UTF-16 unit of the JSON string starting at `start`. */
function stringColumn(text: string, start: number, offset: number): number {
  let r = start + 1;
  for (let d = 0; d < offset && r < text.length; d++)
    r += text[r] === '\\' ? (text[r + 1] === 'u' ? 6 : 2) : 1;
  return r;
}

export class TokenRule {
  private tok?: ChatTokenizer;
  /** Why the tokenizer could not be loaded (reported once, on the first record checked). */
  error?: string;
  private errorReported = false;

  constructor(readonly opts: TokenRuleOptions) {}

  private tokenizer(): ChatTokenizer | undefined {
    if (!this.tok && this.error === undefined) {
      try {
        this.tok = loadChatTokenizer(this.opts.tokenizer);
      } catch (e) {
        this.error = e instanceof Error ? e.message : String(e);
      }
    }
    return this.tok;
  }

  /**
   * The rule's problems on one record: a message and the span of the line it marks. `mapping`:
   * the dataset_info.json renames the record was read through (spans are at the file's keys).
   */
  check(
    text: string,
    sample: Sample,
    view: RecordView,
    record: Span,
    mapping?: RecordMapping,
  ): { span: Span; message: string }[] {
    const tok = this.tokenizer();
    if (!tok) {
      if (this.errorReported) return [];
      this.errorReported = true;
      return [
        { span: record, message: `cannot check the cutoff: the tokenizer did not load: ${this.error ?? ''}` },
      ];
    }
    let findings: CutFinding[];
    try {
      findings = checkCutoff(tok, sample, this.opts.cutoff).findings;
    } catch {
      // A record the template rejects (raise_exception): not this rule's to report.
      return [];
    }
    return findings.map((f) => ({
      span: this.where(text, sample, view, f, mapping) ?? record,
      message: f.message,
    }));
  }

  private where(
    text: string,
    sample: Sample,
    view: RecordView,
    f: CutFinding,
    mapping: RecordMapping | undefined,
  ): Span | undefined {
    const { turn, side, contentOffset } = f.at;
    if (turn < 0) return undefined;
    let v: TurnView | undefined;
    if (sample.kind === 'dialogue') v = viewTurn(view.turns, sample.turns, turn);
    else if (turn < sample.prompt.length) v = viewTurn(view.turns, sample.prompt, turn);
    else {
      const answers = side === 'rejected' ? sample.rejected : sample.chosen;
      v = viewTurn(
        (side === 'rejected' ? view.rejected : view.chosen) ?? [],
        answers,
        turn - sample.prompt.length,
      );
    }
    if (!v) return undefined;
    const span = locate(text, mapping ? unmapPointer(v.contentPtr, mapping) : v.contentPtr, 'value');
    if (contentOffset === undefined || typeof v.content !== 'string' || text[span.start] !== '"') return span;
    return {
      start: Math.min(stringColumn(text, span.start, contentOffset), span.end - 1),
      end: span.end - 1,
    };
  }
}

/**
 * The training-mask preview of the dialogue pane: a toggle (or `m`) and a policy picker; while on,
 * the record shown is sent to the host (`maskRequest`), which renders it through the model's chat
 * template and answers with each turn's tokens and the tokens that get loss (`maskPreview`). The
 * turns are then shaded — loss: a tinted body and a solid edge; no loss: a dashed edge — with their
 * token counts as text, the turn where the cutoff falls marked with a line, the turns past it as
 * dropped, and a summary ("loss on 312 of 340 tokens") in a live region for screen readers.
 * Talks to the host through src/maskProtocol.ts.
 */
import type {
  MaskConversationView,
  MaskHostMessage,
  MaskPolicyId,
  MaskStringKey,
  MaskStrings,
  MaskTurnView,
  MaskWebviewMessage,
} from '../src/maskProtocol';
import { MASK_POLICY_IDS } from '../src/maskProtocol';
import { el } from './dom';

interface ValueElement extends HTMLElement {
  value: string;
}

type Preview = Extract<MaskHostMessage, { type: 'maskPreview' }>;

export interface MaskOptions {
  post(m: MaskWebviewMessage): void;
  /** The record selected in the list (-1: none). */
  selectedLine(): number;
  /** The dialogue pane's body, whose turn blocks are shaded. */
  body(): HTMLElement;
}

const CLASSES = ['mask-loss', 'mask-noloss', 'mask-cut', 'mask-dropped'];

export class MaskPreview {
  readonly element: HTMLElement;
  private strings: Partial<MaskStrings> = {};
  private on = false;
  private policy: MaskPolicyId = 'assistant';
  private readonly toggle: HTMLButtonElement;
  private readonly select: ValueElement;
  private readonly summary = el('span', 'mask-summary');
  /** The preview of the shown record, once the host sent it. */
  private preview: Preview | undefined;

  constructor(private readonly opts: MaskOptions) {
    this.element = el('div', 'mask-bar');
    this.element.setAttribute('role', 'region');
    this.toggle = el('button', 'mask-toggle');
    this.toggle.type = 'button';
    this.toggle.setAttribute('aria-pressed', 'false');
    this.toggle.addEventListener('click', () => this.setOn(!this.on));
    this.select = document.createElement('vscode-single-select');
    this.select.className = 'mask-policy';
    this.select.hidden = true;
    this.select.addEventListener('change', () => {
      const v = this.select.value;
      if ((MASK_POLICY_IDS as readonly string[]).includes(v) && v !== this.policy) {
        this.policy = v as MaskPolicyId;
        this.request();
      }
    });
    this.summary.setAttribute('aria-live', 'polite');
    this.element.append(this.toggle, this.select, this.summary);
    // The pane renders its record again by itself (JSON view, diff, plain text): shade it again.
    new MutationObserver(() => {
      if (this.on && this.preview) this.decorate(this.opts.body());
    }).observe(this.opts.body(), { childList: true });
  }

  private t(key: MaskStringKey, ...args: string[]): string {
    const s = this.strings[key] ?? key;
    return s.replace(/\{(\d+)\}/g, (m, i: string) => args[Number(i)] ?? m);
  }

  get isOn(): boolean {
    return this.on;
  }

  setOn(on: boolean): void {
    this.on = on;
    this.toggle.setAttribute('aria-pressed', String(on));
    this.toggle.classList.toggle('on', on);
    this.select.hidden = !on;
    if (on) this.request();
    else {
      this.preview = undefined;
      this.summary.textContent = '';
      this.clear(this.opts.body());
    }
  }

  /** The `m` key (outside text fields): toggles the preview. */
  onKey(e: KeyboardEvent): boolean {
    if (e.key !== 'm') return false;
    this.setOn(!this.on);
    return true;
  }

  /** Called after the pane showed record `line` (a new record, or a new version of it). */
  onRecord(line: number): void {
    if (!this.on) return;
    if (this.preview?.line === line) this.decorate(this.opts.body());
    this.request();
  }

  private request(): void {
    const line = this.opts.selectedLine();
    if (!this.on || line < 0) return;
    this.summary.textContent = this.t('computing');
    this.opts.post({ type: 'maskRequest', line, policy: this.policy });
  }

  handle(m: MaskHostMessage): void {
    if (m.type === 'maskInit') {
      this.strings = m.strings;
      this.initStrings();
      return;
    }
    // An answer for another record or policy than the one shown now is stale.
    if (!this.on || m.line !== this.opts.selectedLine() || m.policy !== this.policy) return;
    this.preview = m;
    this.decorate(this.opts.body());
  }

  private initStrings(): void {
    this.element.setAttribute('aria-label', this.t('toggle'));
    this.toggle.textContent = this.t('toggle');
    this.toggle.title = this.t('toggleHint');
    this.select.setAttribute('aria-label', this.t('policy'));
    this.select.replaceChildren();
    for (const p of MASK_POLICY_IDS) {
      const o = document.createElement('vscode-option');
      o.setAttribute('value', p);
      o.textContent = `${this.t('policy')}: ${this.t(p)}`;
      if (p === this.policy) o.setAttribute('selected', '');
      this.select.appendChild(o);
    }
  }

  private clear(body: HTMLElement): void {
    for (const x of body.querySelectorAll('.mask-info, .mask-cut-line')) x.remove();
    for (const b of body.querySelectorAll<HTMLElement>('[data-key]')) b.classList.remove(...CLASSES);
  }

  /** Shades the turn blocks of `body` with the preview of the record they show. */
  private decorate(body: HTMLElement): void {
    this.clear(body);
    const p = this.preview;
    if (!p || p.line !== this.opts.selectedLine()) return;
    if ('error' in p) {
      this.summary.textContent = p.error;
      return;
    }
    const blocks = new Map<string, HTMLElement>();
    for (const b of body.querySelectorAll<HTMLElement>('[data-key]'))
      if (b.dataset.key) blocks.set(b.dataset.key, b);
    const [first] = p.conversations;
    // A pair's prompt is the same in both conversations: shown with the chosen one.
    for (const c of p.conversations)
      for (const turn of c.turns) {
        if (turn.section === 'prompt' && c !== first) continue;
        const key = turn.section === 'system' ? 'system' : `${turn.section}:${turn.index}`;
        const block = blocks.get(key);
        if (block) this.shadeTurn(block, turn, c);
      }
    this.summary.textContent = p.conversations.map((c) => this.describe(p, c)).join(' · ');
  }

  private describe(p: Extract<Preview, { conversations: unknown }>, c: MaskConversationView): string {
    let s = this.t(
      'summary',
      c.lossTokens.toLocaleString(),
      c.tokens.toLocaleString(),
      this.t(p.policy),
      p.tokenizer,
    );
    if (c.side) s = `${this.t('side', c.side)}: ${s}`;
    if (p.cutoff !== undefined) {
      if (c.cut) {
        const name = c.cut.section === 'turns' ? 'turn' : c.cut.section;
        const where = c.cut.section === 'system' ? 'system' : `${name} ${c.cut.index + 1}`;
        s += ` · ${this.t('summaryCut', p.cutoff.toLocaleString(), (c.tokens - p.cutoff).toLocaleString(), where)}`;
      } else s += ` · ${this.t('fits', p.cutoff.toLocaleString())}`;
    }
    return s;
  }

  private shadeTurn(block: HTMLElement, turn: MaskTurnView, c: MaskConversationView): void {
    const words: string[] = [this.t('turnTokens', turn.tokens.toLocaleString())];
    block.classList.add(turn.lossTokensUncut > 0 ? 'mask-loss' : 'mask-noloss');
    words.push(
      turn.lossTokensUncut > 0
        ? this.t('turnLoss', turn.lossTokens.toLocaleString(), turn.tokens.toLocaleString())
        : this.t('turnNoLoss'),
    );
    const cut = c.cut && c.cut.section === turn.section && c.cut.index === turn.index ? c.cut : undefined;
    if (cut) {
      block.classList.add('mask-cut');
      words.push(this.t('turnCut', cut.kept.toLocaleString(), cut.of.toLocaleString()));
      const line = el('div', 'mask-cut-line', this.t('cutLine'));
      line.setAttribute('role', 'separator');
      line.setAttribute('aria-label', this.t('turnCut', String(cut.kept), String(cut.of)));
      // The line sits where the cut falls, as a share of the turn's tokens.
      line.style.setProperty('--mask-cut-at', `${cut.of ? Math.round((cut.kept / cut.of) * 100) : 0}%`);
      block.appendChild(line);
    } else if (turn.dropped > 0) {
      block.classList.add('mask-dropped');
      words.push(this.t('turnTruncated'));
    }
    const info = el('span', 'mask-info', words.join(' · '));
    block.querySelector('.turn-head')?.appendChild(info);
  }
}

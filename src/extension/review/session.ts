/**
 * The review part of one dialogue editor webview: marks for the rows it shows, the decisions on its
 * record, the progress, and the review messages it sends (checked in reviewProtocol.ts).
 */
import * as vscode from 'vscode';
import type { HostMessage, Query } from '../../protocol';
import type { ReviewDecisionView, ReviewWebviewMessage } from '../../reviewProtocol';
import type { Effective } from '../../core/review';
import type { DialogueDocument } from '../editor/dialogueDocument';
import { IntentError } from '../editor/records';
import { Disposable } from '../util/disposable';
import { DocumentReview } from './documentReview';
import { reviewStrings } from './strings';

/** Rows whose marks are sent again when decisions change (the ones the webview asked for last). */
const MAX_TRACKED_ROWS = 5000;

function view(e: Effective): ReviewDecisionView {
  const v: ReviewDecisionView = {
    status: e.status,
    changed: e.changed,
    conflicts: e.conflicts.map((c) => {
      const x: ReviewDecisionView['conflicts'][number] = { reviewer: c.reviewer, status: c.status };
      if (c.note) x.note = c.note;
      return x;
    }),
  };
  const d = e.decision;
  if (d && d.status !== 'unreviewed') {
    v.reviewer = d.reviewer;
    v.time = d.time;
    if (d.note) v.note = d.note;
  }
  return v;
}

export class SessionReview extends Disposable {
  readonly review: DocumentReview;
  private ready = false;
  private readonly rows = new Set<number>();
  /** The record the webview shows (the palette commands act on it). */
  selectedLine: number | undefined;
  private progressTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly document: DialogueDocument,
    private readonly post: (m: HostMessage) => void,
  ) {
    super();
    this.review = DocumentReview.of(document);
    this._register(this.review.onDidChange((c) => this.onChange(c.lines)));
  }

  onReady(): void {
    this.ready = true;
    this.rows.clear();
    this.post({ type: 'reviewInit', strings: reviewStrings() });
    this.postProgress();
  }

  private onChange(lines: number[] | undefined): void {
    if (!this.ready) return;
    clearTimeout(this.progressTimer);
    this.progressTimer = setTimeout(() => this.postProgress(), 50);
    const targets = lines ?? [...this.rows];
    void this.postMarks(targets.filter((l) => this.rows.has(l)));
    if (this.selectedLine !== undefined && (!lines || lines.includes(this.selectedLine)))
      void this.postRecord(this.selectedLine);
  }

  postProgress(): void {
    if (this.ready) this.post({ type: 'reviewProgress', ...this.review.progress() });
  }

  /** After the host sent `rows` for `lines`. */
  async postMarks(lines: readonly number[]): Promise<void> {
    if (!this.ready || lines.length === 0) return;
    await this.review.loaded;
    const store = this.document.store;
    const marks = [];
    for (const line of lines) {
      if (line >= store.lineCount) continue;
      if (this.rows.size >= MAX_TRACKED_ROWS) this.rows.clear();
      this.rows.add(line);
      marks.push(this.review.markOf(line, await store.readLine(line)));
    }
    this.post({ type: 'reviewMarks', marks });
  }

  /** After the host sent `record` for `line`. */
  async postRecord(line: number): Promise<void> {
    this.selectedLine = line;
    if (!this.ready || line >= this.document.lineCount) return;
    await this.review.loaded;
    const id = await this.review.identityAt(line);
    const state = this.review.state;
    this.post({
      type: 'reviewRecord',
      line,
      record: view(state.effective(id)),
      turns: state.turnsOf(id.key).map((turn) => ({ turn, ...view(state.effective(id, turn)) })),
      generated: [...id.generatedTurns.keys()],
      generatedRecord: id.provenance !== undefined,
    });
  }

  keepFor(q: Query): ((line: number, text: string) => boolean) | undefined {
    return this.review.keepFor(q);
  }

  async handle(m: ReviewWebviewMessage): Promise<void> {
    switch (m.type) {
      case 'reviewSet':
        if (m.line >= this.document.lineCount)
          throw new Error(vscode.l10n.t('Record {0} no longer exists.', m.line + 1));
        if (m.generated && m.turn !== undefined) {
          await this.review.loaded;
          if (!(await this.review.identityAt(m.line)).generatedTurns.has(m.turn))
            throw new IntentError(
              vscode.l10n.t(
                'Turn {0} of record {1} is not generated: with "Generated only" on, the review keys act on generated turns.',
                m.turn + 1,
                m.line + 1,
              ),
            );
        }
        await this.review.decide(m.line, m.status, m.turn, m.note);
        return;
      case 'reviewNext': {
        const line = await this.review.nextUnreviewed(m.after, m.generated === true);
        if (line === undefined) {
          this.post({
            type: 'error',
            message: m.generated
              ? vscode.l10n.t('Every generated record has been reviewed.')
              : vscode.l10n.t('Every record has been reviewed.'),
          });
          return;
        }
        this.post({ type: 'reveal', line });
        return;
      }
    }
  }

  override dispose(): void {
    clearTimeout(this.progressTimer);
    super.dispose();
  }
}

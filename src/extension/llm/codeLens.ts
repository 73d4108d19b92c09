import * as vscode from 'vscode';
import { parseRecord } from '../../core/formats';
import { contentText } from '../../core/model';
import { lastRole } from '../../core/parrot';
import { SETTING } from './settings';
import { entryMappings } from '../entryMappings';

/** Files bigger than this get no per-record lenses (parsing every visible line costs). */
export const CODELENS_MAX_CHARS = 8 * 1024 * 1024;
/** Records with lenses in one selection, at most. */
const MAX_LINES = 200;
/** Lines parsed when no editor shows the document. */
const FIRST_LINES = 200;

/**
 * Per-record lenses in the TEXT editor of a `.jsonl` dialogue dataset: "Ask follow-up" (or
 * "Answer") and, for a record that ends with an answer, the three CaPO negatives. A lens takes a
 * line of its own above its record, so they are shown only on the records under the cursor or the
 * selection (a lens on every line would double the editor's height); they follow the selection.
 * Without an editor showing the document, the first lines get them.
 */
export class GenerationCodeLensProvider implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this._onDidChange.event;
  private readonly subs: vscode.Disposable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor() {
    this.subs.push(
      vscode.window.onDidChangeTextEditorSelection((e) => {
        if (!e.textEditor.document.fileName.endsWith('.jsonl')) return;
        if (this.timer) clearTimeout(this.timer);
        this.timer = setTimeout(() => this._onDidChange.fire(), 150);
      }),
    );
  }

  refresh(): void {
    this._onDidChange.fire();
  }

  private ranges(document: vscode.TextDocument): [number, number][] {
    const shown = vscode.window.visibleTextEditors.filter((e) => e.document === document);
    const raw: [number, number][] = shown.length
      ? shown.flatMap((e) =>
          e.selections.map((r): [number, number] => [
            r.start.line,
            Math.min(r.end.line, r.start.line + MAX_LINES),
          ]),
        )
      : [[0, FIRST_LINES]];
    const clipped = raw
      .map(([a, b]): [number, number] => [Math.max(0, a), Math.min(document.lineCount - 1, b)])
      .sort((x, y) => x[0] - y[0]);
    const merged: [number, number][] = [];
    for (const r of clipped) {
      const last = merged[merged.length - 1];
      if (last && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1]);
      else merged.push(r);
    }
    return merged;
  }

  provideCodeLenses(document: vscode.TextDocument, token: vscode.CancellationToken): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration().get<boolean>(SETTING.codeLens, true)) return [];
    if (document.lineCount === 0) return [];
    if (document.offsetAt(document.lineAt(document.lineCount - 1).range.end) > CODELENS_MAX_CHARS) return [];
    const lenses: vscode.CodeLens[] = [];
    for (const [from, to] of this.ranges(document)) {
      for (let line = from; line <= to; line++) {
        if (token.isCancellationRequested) return lenses;
        const text = document.lineAt(line).text;
        if (text.trim() === '') continue;
        const p = parseRecord(text, undefined, { mapping: entryMappings().get(document.uri.fsPath) });
        if (!p.ok || p.sample.kind !== 'dialogue') continue;
        const range = new vscode.Range(line, 0, line, 0);
        const args = { uri: document.uri, record: line };
        const ends = lastRole(p.sample);
        if (ends === 'user') {
          lenses.push(
            new vscode.CodeLens(range, {
              title: vscode.l10n.t('$(sparkle) Answer'),
              command: 'parrot.answerTurn',
              arguments: [args],
            }),
          );
        } else if (ends !== undefined) {
          lenses.push(
            new vscode.CodeLens(range, {
              title: vscode.l10n.t('$(sparkle) Ask follow-up'),
              command: 'parrot.askFollowUp',
              arguments: [args],
            }),
          );
        }
        const turns = p.sample.turns;
        const last = turns.length - 1;
        const answered =
          turns[last]?.role === 'assistant' && contentText(turns[last]?.content ?? '').trim() !== '';
        if (answered && turns[last - 1]?.role === 'user' && last >= 3) {
          lenses.push(
            ...(['neglect', 'hallucinate', 'misread'] as const).map(
              (strategy) =>
                new vscode.CodeLens(range, {
                  title: vscode.l10n.t('Negative: {0}', strategy),
                  tooltip: vscode.l10n.t(
                    'CaPO: a {0} answer to the last user turn, as the rejected side of a pair',
                    strategy,
                  ),
                  command: 'parrot.capoNegative',
                  arguments: [{ ...args, turn: last, strategy }],
                }),
            ),
          );
        }
      }
    }
    return lenses;
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const s of this.subs) s.dispose();
    this._onDidChange.dispose();
  }
}

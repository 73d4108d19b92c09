/**
 * Review commands: Accept / Reject / Mark Needs Work on the record selected in the dialogue
 * editor, and Export Reviewed Records… (accepted, or all but rejected, to any format).
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { FORMAT_IDS, FORMATS, isFormatId } from '../../core/formats';
import type { FormatId } from '../../core/model';
import {
  exportReviewedToFile,
  readSidecarOf,
  ReviewState,
  type Decision,
  type ExportSelection,
  type ReviewStatus,
} from '../../core/review';
import type { DialogueEditorProvider } from '../editor/dialogueEditorProvider';
import { isDialogueTab } from '../editor/dialogueEditorProvider';
import { records, targetFor } from '../llm/targets';
import type { DialogueEditorApi } from '../editor';
import { getLog } from '../log';
import { DocumentReview } from './documentReview';

/** Arguments the commands take from tests and other commands (the palette passes none). */
export interface DecideArgs {
  uri?: vscode.Uri;
  line?: number;
  turn?: number;
  note?: string;
}

export interface ExportArgs {
  uri?: vscode.Uri;
  selection?: ExportSelection;
  /** Target format, or `same` for each record's own. */
  format?: FormatId | 'same';
  output?: vscode.Uri | string;
}

function activeDialogueUri(): vscode.Uri | undefined {
  const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  return isDialogueTab(input) ? input.uri : undefined;
}

async function decide(
  provider: DialogueEditorProvider,
  status: ReviewStatus,
  args: DecideArgs = {},
): Promise<Decision | undefined> {
  const uri = args.uri ?? activeDialogueUri();
  const session = uri ? provider.sessionsFor(uri)[0] : undefined;
  if (!session) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Select a record in the Dialogue Editor first (Parrot: Open in Dialogue Editor).'),
    );
    return undefined;
  }
  const line = args.line ?? session.review.selectedLine;
  if (line === undefined) {
    void vscode.window.showInformationMessage(vscode.l10n.t('Select a record in the Dialogue Editor first.'));
    return undefined;
  }
  return session.review.review.decide(line, status, args.turn, args.note);
}

function asFileUri(v: vscode.Uri | string): vscode.Uri {
  if (typeof v !== 'string') return v;
  return v.includes('://') ? vscode.Uri.parse(v) : vscode.Uri.file(v);
}

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputText || tab instanceof vscode.TabInputCustom) return tab.uri;
  return undefined;
}

async function exportReviewedRecords(
  editor: DialogueEditorApi,
  arg: unknown,
): Promise<{ status: string; message?: string; output?: string; kept?: number }> {
  const args: ExportArgs = arg instanceof vscode.Uri ? { uri: arg } : ((arg as ExportArgs | undefined) ?? {});
  const uri = args.uri ?? targetUri(arg);
  if (!uri || uri.scheme !== 'file') {
    void vscode.window.showInformationMessage(vscode.l10n.t('Open a dataset file first.'));
    return { status: 'cancelled' };
  }
  let selection = args.selection;
  if (!selection) {
    const picked = await vscode.window.showQuickPick(
      [
        { label: vscode.l10n.t('Accepted records'), value: 'accepted' as const },
        { label: vscode.l10n.t('All but rejected records'), value: 'not-rejected' as const },
      ],
      { title: vscode.l10n.t('Export which records?') },
    );
    if (!picked) return { status: 'cancelled' };
    selection = picked.value;
  }
  let format = args.format;
  if (!format) {
    const picked = await vscode.window.showQuickPick(
      [
        { label: vscode.l10n.t('Same format as the dataset'), value: 'same' as const },
        ...FORMAT_IDS.map((f) => ({ label: FORMATS[f].title, description: f, value: f })),
      ],
      { title: vscode.l10n.t('Export to which format?') },
    );
    if (!picked) return { status: 'cancelled' };
    format = picked.value;
  }
  if (format !== 'same' && !isFormatId(format))
    throw new Error(vscode.l10n.t('Unknown format {0}.', String(format)));
  const out =
    args.output !== undefined
      ? asFileUri(args.output)
      : await vscode.window.showSaveDialog({
          defaultUri: uri.with({ path: uri.path.replace(/\.jsonl?$/i, '') + `.${selection}.jsonl` }),
          filters: { JSONL: ['jsonl'] },
          title: vscode.l10n.t('Save the reviewed records'),
        });
  if (!out) return { status: 'cancelled' };
  if (out.scheme !== 'file') throw new Error(vscode.l10n.t('The export is written to a file on disk.'));
  if (out.fsPath === uri.fsPath)
    throw new Error(vscode.l10n.t('Export to another file; the dataset stays as it is.'));
  const doc = editor.document(uri);
  let state: ReviewState;
  if (doc) {
    const review = DocumentReview.of(doc);
    await review.loaded;
    state = review.state;
  } else state = new ReviewState((await readSidecarOf(uri.fsPath)).decisions);
  const target = await targetFor(uri, editor);
  async function* lines(): AsyncGenerator<{ line: number; text: string }> {
    for await (const [index, text] of records(target)) yield { line: index + 1, text };
  }
  const opts = { selection, ...(format === 'same' ? {} : { to: format }) };
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Exporting reviewed records…') },
    () => exportReviewedToFile(lines(), state, opts, out.fsPath),
  );
  const log = getLog();
  const name = path.basename(uri.fsPath);
  for (const x of r.losses) log.info(`${name}:${x.line}: lost: ${x.message}`);
  for (const x of r.invalid) log.warn(`${name}:${x.line}: ${x.message} (left out)`);
  for (const x of r.changed) log.warn(`${name}:${x}: changed since it was reviewed`);
  for (const x of r.conflicts) log.warn(`${name}:${x}: reviewers disagree`);
  const message = vscode.l10n.t(
    '{0} of {1} records exported to {2}; {3} losses, {4} left out, {5} changed since review (details in the Parrot output).',
    r.kept,
    r.records,
    path.basename(out.fsPath),
    r.losses.length,
    r.invalid.length,
    r.changed.length,
  );
  void vscode.window.showInformationMessage(message);
  return { status: 'ok', message, output: out.fsPath, kept: r.kept };
}

export function registerReviewCommands(
  context: vscode.ExtensionContext,
  provider: DialogueEditorProvider,
  editor: DialogueEditorApi,
): void {
  const guarded =
    <A extends unknown[], R>(run: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R | undefined> => {
      try {
        return await run(...a);
      } catch (err) {
        const text = err instanceof Error ? err.message : String(err);
        void vscode.window.showErrorMessage(text);
        return undefined;
      }
    };
  context.subscriptions.push(
    vscode.commands.registerCommand(
      'parrot.acceptRecord',
      guarded((a?: DecideArgs) => decide(provider, 'accepted', a)),
    ),
    vscode.commands.registerCommand(
      'parrot.rejectRecord',
      guarded((a?: DecideArgs) => decide(provider, 'rejected', a)),
    ),
    vscode.commands.registerCommand(
      'parrot.markRecordNeedsWork',
      guarded((a?: DecideArgs) => decide(provider, 'needs-work', a)),
    ),
    vscode.commands.registerCommand(
      'parrot.exportReviewed',
      guarded((a?: unknown) => exportReviewedRecords(editor, a)),
    ),
  );
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  DEFAULT_QUESTION_FILTER,
  filterFile,
  formatRejection,
  parseWordList,
  type FilterReport,
  type QuestionFilter,
} from '../../core/parrot';
import type { CommandResult, LlmContext, RecordArgs } from './controller';
import { records, targetFor } from './targets';

export interface FilterArgs extends RecordArgs {
  /** Where to write (a path or URI); asked for when missing. */
  output?: vscode.Uri | string;
  minWords?: number;
  maxOverlap?: number;
  /** A word-list file (one word or phrase a line, `#` comments). */
  wordsFile?: string;
  requireContext?: boolean;
  drop?: boolean;
}

export interface FilterResult extends CommandResult {
  output?: string;
  passed?: number;
  cut?: number;
  dropped?: number;
  rejected?: FilterReport[];
}

function asFileUri(v: vscode.Uri | string): vscode.Uri {
  if (typeof v !== 'string') return v;
  return v.includes('://') ? vscode.Uri.parse(v) : vscode.Uri.file(v);
}

/** Parrot: Filter Questions in File… — the paper's question filters over the dataset (unsaved edits included). */
export async function filterQuestionsInFile(ctx: LlmContext, args: FilterArgs = {}): Promise<FilterResult> {
  const { uri } = ctx.locate(args, false);
  const target = await targetFor(uri, ctx.editor);
  const out =
    args.output !== undefined
      ? asFileUri(args.output)
      : await vscode.window.showSaveDialog({
          defaultUri: uri.with({ path: uri.path.replace(/\.jsonl?$/i, '') + '.filtered.jsonl' }),
          filters: { JSONL: ['jsonl'] },
          title: vscode.l10n.t('Save the filtered dataset'),
        });
  if (!out) return { status: 'cancelled' };
  if (out.scheme !== 'file')
    throw new Error(vscode.l10n.t('The filtered dataset is written to a file on disk.'));
  if (out.fsPath === uri.fsPath)
    throw new Error(
      vscode.l10n.t('Write the filtered dataset to another file; the original stays as it is.'),
    );
  const f: QuestionFilter = {
    minWords: args.minWords ?? DEFAULT_QUESTION_FILTER.minWords,
    maxOverlap: args.maxOverlap ?? DEFAULT_QUESTION_FILTER.maxOverlap,
    words: args.wordsFile
      ? parseWordList(new TextDecoder().decode(await vscode.workspace.fs.readFile(asFileUri(args.wordsFile))))
      : [],
    requireContext: args.requireContext === true,
  };
  async function* lines(): AsyncGenerator<{ line: number; text: string }> {
    for await (const [index, text] of records(target)) yield { line: index + 1, text };
  }
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Filtering questions…') },
    () => filterFile(lines(), out.fsPath, f, { drop: args.drop === true }),
  );
  const name = path.basename(uri.fsPath);
  for (const x of r.invalid)
    ctx.logger.warn(`${name}:${x.line}:${x.column}: ${x.message} (copied unchanged)`);
  for (const x of r.rejected) ctx.logger.info(formatRejection(name, x));
  const message = vscode.l10n.t(
    '{0} dialogues: {1} passed, {2} cut, {3} left out; {4} questions rejected (each listed with its reason in the Parrot output).',
    r.dialogues,
    r.passed,
    r.cut,
    r.dropped,
    r.rejected.length,
  );
  void vscode.window.showInformationMessage(message);
  return {
    status: 'ok',
    message,
    output: out.fsPath,
    passed: r.passed,
    cut: r.cut,
    dropped: r.dropped,
    rejected: r.rejected,
  };
}

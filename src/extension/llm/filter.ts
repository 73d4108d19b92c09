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
import { entryMappings } from '../entryMappings';
import type { CommandResult, LlmContext, RecordArgs } from './controller';
import { restricted, settingPath } from './settings';
import { records, targetFor } from './targets';

/** A word-list file for the sensitive-question filter (one word or phrase a line). */
export const FILTER_WORDS = 'parrot.filter.wordsFile';
/** Also ask the endpoint's moderation route (spends requests: restricted in untrusted workspaces). */
export const FILTER_MODERATION = 'parrot.filter.moderation';

export interface FilterArgs extends RecordArgs {
  /** Where to write (a path or URI); asked for when missing. */
  output?: vscode.Uri | string;
  minWords?: number;
  maxOverlap?: number;
  /** A word-list file (one word or phrase a line, `#` comments). */
  wordsFile?: string;
  requireContext?: boolean;
  drop?: boolean;
  /** Also ask the endpoint's `/v1/moderations` (default: the setting `parrot.filter.moderation`). */
  moderation?: boolean;
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
  // The word list and the moderation switch come from the settings unless the call gives them.
  const c = vscode.workspace.getConfiguration();
  const wordsFile = args.wordsFile ?? (c.get<string>(FILTER_WORDS, '').trim() || undefined);
  const moderation = args.moderation ?? restricted<boolean>(FILTER_MODERATION) === true;
  let words: string[] = [];
  if (wordsFile) {
    const wordsUri = wordsFile.includes('://')
      ? vscode.Uri.parse(wordsFile)
      : vscode.Uri.file(settingPath(wordsFile));
    try {
      words = parseWordList(new TextDecoder().decode(await vscode.workspace.fs.readFile(wordsUri)));
    } catch (e) {
      throw new Error(
        vscode.l10n.t(
          'Cannot read the word list {0}: {1}',
          wordsUri.fsPath,
          e instanceof Error ? e.message : String(e),
        ),
      );
    }
  }
  const f: QuestionFilter = {
    minWords: args.minWords ?? DEFAULT_QUESTION_FILTER.minWords,
    maxOverlap: args.maxOverlap ?? DEFAULT_QUESTION_FILTER.maxOverlap,
    words,
    requireContext: args.requireContext === true,
  };
  let moderate: ((qs: string[]) => Promise<string[][]>) | undefined;
  if (moderation) {
    const s = ctx.settings();
    if (!(await ctx.checkKey(s))) return { status: 'cancelled' };
    const client = await ctx.client(s);
    moderate = async (qs) => {
      const r = await client.moderate(qs);
      if (!r)
        throw new Error(
          vscode.l10n.t('{0} has no /v1/moderations route; turn off {1}.', ctx.host(s), FILTER_MODERATION),
        );
      return r;
    };
  }
  async function* lines(): AsyncGenerator<{ line: number; text: string }> {
    for await (const [index, text] of records(target)) yield { line: index + 1, text };
  }
  const r = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Filtering questions…') },
    async () =>
      filterFile(lines(), out.fsPath, f, {
        drop: args.drop === true,
        moderate,
        mapping: await entryMappings().load(uri.fsPath),
      }),
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

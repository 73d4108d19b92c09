import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  ASKER_FORMATS,
  askTemplate,
  exportAskerData,
  formatMasks,
  llamaFactoryV1Entry,
  parseQuestionSelection,
  type AskerFormat,
  type AskerSkip,
} from '../../core/parrot';
import { entryMappings } from '../entryMappings';
import type { CommandResult, LlmContext, RecordArgs } from './controller';
import { records, targetFor } from './targets';

export interface AskerDataArgs extends RecordArgs {
  format?: AskerFormat;
  /** Where to write (a path or URI); asked for when missing. */
  output?: vscode.Uri | string;
  /** Train on the first question too. */
  seed?: boolean;
  /** `all`, `last`, `N`, `N-M` or `N-`. */
  questions?: string;
  minQuestions?: number;
}

export interface AskerDataResult extends CommandResult {
  output?: string;
  samples?: number;
  lines?: number;
  skipped?: AskerSkip[];
}

function formatDetail(f: AskerFormat): string {
  switch (f) {
    case 'openai':
      return vscode.l10n.t(
        'OpenAI chat fine-tuning: one sample per dialogue, weight 0/1 on each assistant message',
      );
    case 'llamafactory-v1':
      return vscode.l10n.t(
        'LLaMA-Factory v1: one sample per dialogue, loss_weight per message, dataset_info.yaml',
      );
    case 'trl':
      return vscode.l10n.t('TRL prompt–completion: one sample per trained question');
    case 'sharegpt':
      return vscode.l10n.t('ShareGPT from/value: one sample per dialogue, no per-turn loss mask');
  }
}

/** Parrot: Export Parrot-Ask Training Set… — the open dataset (with unsaved edits) as asker training data. */
export async function exportAskerTrainingSet(
  ctx: LlmContext,
  args: AskerDataArgs = {},
): Promise<AskerDataResult> {
  const { uri } = ctx.locate(args, false);
  const target = await targetFor(uri, ctx.editor);
  const format =
    args.format ??
    (
      await vscode.window.showQuickPick(
        ASKER_FORMATS.map((f) => ({ label: f, value: f, detail: formatDetail(f) })),
        { title: vscode.l10n.t('Training set format') },
      )
    )?.value;
  if (!format) return { status: 'cancelled' };
  if (!ASKER_FORMATS.includes(format))
    throw new Error(
      vscode.l10n.t('Unknown format {0} (known: {1})', String(format), ASKER_FORMATS.join(', ')),
    );
  const stem = uri.path.replace(/\.jsonl?$/i, '');
  const out =
    args.output !== undefined
      ? typeof args.output === 'string'
        ? args.output.includes('://')
          ? vscode.Uri.parse(args.output)
          : vscode.Uri.file(args.output)
        : args.output
      : await vscode.window.showSaveDialog({
          defaultUri: uri.with({ path: `${stem}.asker.${format}.jsonl` }),
          filters: { JSONL: ['jsonl'] },
          title: vscode.l10n.t('Save the Parrot-Ask training set'),
        });
  if (!out) return { status: 'cancelled' };
  if (out.scheme !== 'file') throw new Error(vscode.l10n.t('The training set is written to a file on disk.'));
  const s = ctx.settings();
  const opts = {
    template: askTemplate('parrot-ask', s.templates['ask-reversed-system']),
    includeSeed: args.seed === true,
    questions: parseQuestionSelection(args.questions ?? 'all'),
    minQuestions: args.minQuestions ?? 2,
  };
  async function* lines(): AsyncGenerator<{ line: number; text: string }> {
    for await (const [index, text] of records(target)) yield { line: index + 1, text };
  }
  const r = await vscode.window.withProgress(
    {
      location: vscode.ProgressLocation.Notification,
      title: vscode.l10n.t('Writing the Parrot-Ask training set…'),
    },
    async () =>
      exportAskerData(lines(), out.fsPath, format, opts, undefined, await entryMappings().load(uri.fsPath)),
  );
  const name = path.basename(uri.fsPath);
  for (const k of r.skipped) ctx.logger.info(`${name}:${k.line}: skipped: ${k.reason}`);
  if (format === 'llamafactory-v1') {
    const info = vscode.Uri.file(path.join(path.dirname(out.fsPath), 'dataset_info.yaml'));
    const entry = llamaFactoryV1Entry(
      path.basename(out.fsPath).replace(/\.jsonl?$/i, ''),
      path.basename(out.fsPath),
    );
    try {
      await vscode.workspace.fs.stat(info);
      ctx.logger.info(`${info.fsPath} exists and is left as it is; add this entry:\n${entry}`);
    } catch {
      await vscode.workspace.fs.writeFile(info, new TextEncoder().encode(entry));
    }
  }
  const message = vscode.l10n.t(
    '{0} of {1} dialogues → {2} samples in {3}; {4} records skipped (listed in the Parrot output).',
    r.samples,
    r.dialogues,
    r.lines,
    path.basename(out.fsPath),
    r.skipped.length,
  );
  const note = formatMasks(format)
    ? ''
    : ` ${vscode.l10n.t('ShareGPT has no per-turn loss mask: every asker turn is learnt.')}`;
  void vscode.window.showInformationMessage(message + note);
  return {
    status: 'ok',
    message,
    output: out.fsPath,
    samples: r.samples,
    lines: r.lines,
    skipped: r.skipped,
  };
}

import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { newLayout, recordToLine } from '../../core/formats';
import { isPlainSeedFile, SEED_FORMATS, seedFromText, type SeedFormat } from '../../core/parrot';
import { VIEW_TYPE } from '../editor';
import type { LlmContext } from './controller';
import { extendFile, type ExtendFileArgs, type ExtendFileResult } from './generate';

export interface GrowFromSeedsArgs extends ExtendFileArgs {
  /** For a plain-text seeds file: the new dataset (default: asked, `<name>.jsonl` proposed). */
  output?: string;
  /** For a plain-text seeds file: the new dialogues' format (default: asked, ShareGPT first). */
  format?: SeedFormat;
}

/**
 * Grow Dialogues from Seed Questions: the paper's way of building a dataset. A plain-text file (one
 * question per line) first becomes a new dataset of one-question dialogues, opened in the dialogue
 * editor; a dataset is restarted in place from each record's first question. Then every dialogue is
 * extended as **Extend Dialogues in File…** does (estimate, progress, cancel, one undo step).
 */
export async function growFromSeeds(
  ctx: LlmContext,
  args: GrowFromSeedsArgs = {},
): Promise<ExtendFileResult> {
  const { uri } = ctx.locate(args, false);
  if (!isPlainSeedFile(uri.fsPath)) return extendFile(ctx, { ...args, seeds: true });

  const lines = (await fs.readFile(uri.fsPath, 'utf8')).replace(/^\uFEFF/, '').split(/\r?\n/);
  const seeds = lines.flatMap((l) => seedFromText(l) ?? []);
  if (seeds.length === 0)
    throw new Error(
      vscode.l10n.t('{0} has no seed question (one question per line).', path.basename(uri.fsPath)),
    );
  let format = args.format;
  if (format !== undefined && !(SEED_FORMATS as readonly string[]).includes(format))
    throw new Error(vscode.l10n.t('"format" must be one of {0}.', SEED_FORMATS.join(', ')));
  if (format === undefined) {
    const picked = await vscode.window.showQuickPick(
      SEED_FORMATS.map((f) => ({ label: f })),
      { title: vscode.l10n.t('Format of the new dialogues'), placeHolder: 'sharegpt' },
    );
    if (!picked) return { status: 'cancelled' };
    format = picked.label;
  }
  let out: vscode.Uri;
  if (args.output !== undefined) {
    out = vscode.Uri.file(path.resolve(args.output));
    if (existsSync(out.fsPath))
      throw new Error(vscode.l10n.t('{0} exists — choose another output.', out.fsPath));
  } else {
    const picked = await vscode.window.showSaveDialog({
      title: vscode.l10n.t('Write the new dialogues to'),
      defaultUri: vscode.Uri.file(uri.fsPath.replace(/\.txt$/i, '') + '.jsonl'),
      filters: { JSONL: ['jsonl'] },
    });
    if (!picked) return { status: 'cancelled' };
    out = picked;
  }
  const layout = newLayout(format);
  await fs.writeFile(out.fsPath, seeds.map((d) => recordToLine(d, layout) + '\n').join(''), {
    flag: args.output !== undefined ? 'wx' : 'w',
  });
  await vscode.commands.executeCommand('vscode.openWith', out, VIEW_TYPE, { preview: false });
  return extendFile(ctx, { ...args, uri: out, records: undefined, seeds: false });
}

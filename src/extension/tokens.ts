/**
 * The `parrot.tokens.*` settings: the model's tokenizer (a model folder, or `o200k`) and the
 * training cutoff that turns the `tokens/cutoff` rule on.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';

export const TOKENS_SECTION = 'parrot.tokens';

/** `o200k`, or the model folder made absolute (relative paths: to the file's workspace folder). */
export function tokenizerSetting(uri?: vscode.Uri): string {
  const spec = vscode.workspace
    .getConfiguration(TOKENS_SECTION, uri)
    .get<string>('tokenizer', 'o200k')
    .trim();
  if (spec === '' || spec === 'o200k' || spec === 'o200k_base') return 'o200k';
  if (path.isAbsolute(spec)) return spec;
  const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) : vscode.workspace.workspaceFolders?.[0];
  return path.join(folder?.uri.fsPath ?? (uri ? path.dirname(uri.fsPath) : process.cwd()), spec);
}

/** The cutoff in tokens, or undefined when none is set (0 or empty). */
export function cutoffSetting(uri?: vscode.Uri): number | undefined {
  const n = vscode.workspace.getConfiguration(TOKENS_SECTION, uri).get<number | null>('cutoff', null);
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Options of the tokens/cutoff rule for a file, or undefined (no cutoff: the rule is off). */
export function tokenRuleOptions(uri: vscode.Uri): { tokenizer: string; cutoff: number } | undefined {
  const cutoff = cutoffSetting(uri);
  return cutoff === undefined ? undefined : { tokenizer: tokenizerSetting(uri), cutoff };
}

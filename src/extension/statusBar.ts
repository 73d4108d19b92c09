import * as vscode from 'vscode';

/** What the status bar needs to know about a dataset. */
export interface DatasetInfo {
  readonly uri: vscode.Uri;
  readonly lineCount: number;
  readonly isIndexing: boolean;
}

let item: vscode.StatusBarItem | undefined;
let active: DatasetInfo | undefined;
const problems = new Map<string, number>();

function render(): void {
  if (!item) return;
  if (!active) {
    item.hide();
    return;
  }
  const count = active.lineCount.toLocaleString();
  const records = active.isIndexing
    ? vscode.l10n.t('{0}+ records', count)
    : active.lineCount === 1
      ? vscode.l10n.t('1 record')
      : vscode.l10n.t('{0} records', count);
  const n = problems.get(active.uri.toString());
  item.text =
    n === undefined
      ? `$(comment-discussion) ${records}`
      : `$(comment-discussion) ${records}  $(warning) ${n.toLocaleString()}`;
  item.tooltip =
    n === undefined
      ? vscode.l10n.t('Records in the dataset open in the dialogue editor')
      : vscode.l10n.t('{0} in the dataset; {1} problems found', records, n.toLocaleString());
  item.command = n === undefined ? undefined : 'workbench.actions.view.problems';
  item.show();
}

/**
 * Shows `dataset` in the status bar (the active dialogue editor); `undefined` hides the item,
 * unless `onlyIf` is given and another dataset is shown.
 */
export function setActiveDataset(dataset: DatasetInfo | undefined, onlyIf?: DatasetInfo): void {
  if (dataset === undefined && onlyIf !== undefined && active !== onlyIf) return;
  active = dataset;
  render();
}

/** Sets (or clears, with `undefined`) the problem count shown for the dataset at `uri`. */
export function setProblemCount(uri: vscode.Uri, count: number | undefined): void {
  if (count === undefined) problems.delete(uri.toString());
  else problems.set(uri.toString(), count);
  render();
}

/** The status bar text (for tests). */
export function statusBarText(): string | undefined {
  return item?.text;
}

export function registerStatusBar(context: vscode.ExtensionContext): void {
  item = vscode.window.createStatusBarItem('parrot.dataset', vscode.StatusBarAlignment.Right, 100);
  item.name = vscode.l10n.t('Parrot Studio dataset');
  context.subscriptions.push(item, {
    dispose: () => {
      item = undefined;
      active = undefined;
      problems.clear();
    },
  });
  render();
}

import * as vscode from 'vscode';
import { VIEW_TYPE } from './editor';

export const OPEN_SAMPLE = 'parrot.openSample';
const SAMPLE = ['media', 'walkthrough', 'sample.jsonl'] as const;

/** The workspace's `.jsonl` files, those under an `examples` folder first. */
async function workspaceDatasets(): Promise<vscode.Uri[]> {
  const found = await vscode.workspace.findFiles('**/*.jsonl', '**/{node_modules,.git,out,dist}/**', 200);
  const rank = (u: vscode.Uri) => (/\/examples\//.test(u.path) ? 0 : 1);
  return found.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/**
 * **Parrot: Open a Sample Dataset** (the walkthrough's first step): picks one of the workspace's
 * datasets, or, in a workspace without any, opens a copy of the bundled sample in the extension's
 * storage (so the copy, not the installed extension, is what gets edited).
 */
async function openSample(context: vscode.ExtensionContext): Promise<void> {
  let target: vscode.Uri | undefined;
  const files = await workspaceDatasets();
  if (files.length === 1) target = files[0];
  else if (files.length > 1) {
    const picked = await vscode.window.showQuickPick(
      files.map((uri) => ({ label: vscode.workspace.asRelativePath(uri), uri })),
      { title: vscode.l10n.t('Open a dataset in the Dialogue Editor'), matchOnDescription: true },
    );
    if (!picked) return;
    target = picked.uri;
  } else {
    target = vscode.Uri.joinPath(context.globalStorageUri, 'sample-dialogues.jsonl');
    const exists = await vscode.workspace.fs.stat(target).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await vscode.workspace.fs.createDirectory(context.globalStorageUri);
      await vscode.workspace.fs.copy(vscode.Uri.joinPath(context.extensionUri, ...SAMPLE), target);
    }
  }
  await vscode.commands.executeCommand('vscode.openWith', target, VIEW_TYPE, { preview: false });
}

export function registerWalkthrough(context: vscode.ExtensionContext): void {
  context.subscriptions.push(vscode.commands.registerCommand(OPEN_SAMPLE, () => openSample(context)));
}

/**
 * One tab per file: a text editor that opens on a file already shown in the dialogue editor (a
 * click on an entry of the Problems panel, a link to a line) is closed again, and the dialogue
 * editor shows the record of the line it was opened at. **Reopen as Text** asks for the text
 * editor on purpose and is let through (`expectText`).
 */
import * as vscode from 'vscode';
import type { DialogueEditorProvider } from './dialogueEditorProvider';

const DIALOGUE_TIMEOUT_MS = 2000;

/** Files whose text editor is being opened on purpose (Reopen as Text). */
const expected = new Map<string, number>();

/** Lets the next text editors of `uri` open (while `run` runs). */
export async function expectText<T>(uri: vscode.Uri, run: () => Thenable<T> | Promise<T>): Promise<T> {
  const key = uri.toString();
  expected.set(key, (expected.get(key) ?? 0) + 1);
  try {
    return await run();
  } finally {
    const n = (expected.get(key) ?? 1) - 1;
    if (n > 0) expected.set(key, n);
    else expected.delete(key);
  }
}

function dialogueTabOf(uri: vscode.Uri, viewType: string): vscode.Tab | undefined {
  const key = uri.toString();
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
  return tabs.find(
    (t) =>
      t.input instanceof vscode.TabInputCustom &&
      t.input.viewType === viewType &&
      t.input.uri.toString() === key,
  );
}

/** The text editor of `uri` once VS Code has created it (its selection is where it was opened). */
function textEditorOf(uri: vscode.Uri): Promise<vscode.TextEditor | undefined> {
  const key = uri.toString();
  const find = (): vscode.TextEditor | undefined =>
    vscode.window.visibleTextEditors.find((e) => e.document.uri.toString() === key);
  const now = find();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const done = (e: vscode.TextEditor | undefined): void => {
      clearTimeout(timer);
      sub.dispose();
      resolve(e);
    };
    const sub = vscode.window.onDidChangeVisibleTextEditors(() => {
      const e = find();
      if (e) done(e);
    });
    const timer = setTimeout(() => done(undefined), DIALOGUE_TIMEOUT_MS);
  });
}

export function registerRevealFromText(
  provider: DialogueEditorProvider,
  viewType: string,
): vscode.Disposable {
  /** The file each text tab showed when last seen: a tab whose file changed was opened anew. */
  const seen = new WeakMap<vscode.Tab, string>();
  for (const tab of vscode.window.tabGroups.all.flatMap((g) => g.tabs))
    if (tab.input instanceof vscode.TabInputText) seen.set(tab, tab.input.uri.toString());
  const redirect = async (tab: vscode.Tab, uri: vscode.Uri): Promise<void> => {
    const editor = await textEditorOf(uri);
    // Let the tab model settle: "Reopen Editor With" replaces the dialogue tab in the same step.
    const dialogue = dialogueTabOf(uri, viewType);
    if (!dialogue || expected.has(uri.toString())) return;
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString());
    if (doc?.isDirty) return;
    const line = editor?.selection.active.line ?? 0;
    await vscode.commands.executeCommand('vscode.openWith', uri, viewType, dialogue.group.viewColumn);
    const current = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t === tab) ?? tab;
    await vscode.window.tabGroups.close(current, true).then(
      () => undefined,
      () => undefined,
    );
    const sessions = provider.sessionsFor(uri);
    const session = sessions.find((s) => s.viewColumn === dialogue.group.viewColumn) ?? sessions[0];
    session?.reveal(line);
  };
  return vscode.window.tabGroups.onDidChangeTabs((e) => {
    for (const tab of [...e.opened, ...e.changed]) {
      if (!(tab.input instanceof vscode.TabInputText)) {
        seen.delete(tab);
        continue;
      }
      const uri = tab.input.uri;
      const key = uri.toString();
      const before = seen.get(tab);
      seen.set(tab, key);
      if (before === key || !uri.path.toLowerCase().endsWith('.jsonl')) continue;
      if (expected.has(key) || !dialogueTabOf(uri, viewType)) continue;
      void redirect(tab, uri);
    }
  });
}

import * as path from 'node:path';
import * as vscode from 'vscode';
import { detectRecordFormat } from '../../core/formats/detect';
import { containerKindFor, looksLikeRecordArray } from '../../core/store';
import { VIEW_TYPE, isDialogueTab, viewTypeFor } from './dialogueEditorProvider';
import { expectText } from './revealFromText';

const OPEN_BY_DEFAULT = 'parrot.editor.openByDefault';
const CODE_LENS = 'parrot.editor.codeLens';
const ASSOCIATIONS = 'workbench.editorAssociations';
const PATTERN = '*.jsonl';
/** Lines looked at to decide whether a text document is a dialogue dataset. */
const SNIFF_LINES = 5;

function targetUri(arg: unknown): vscode.Uri | undefined {
  if (arg instanceof vscode.Uri) return arg;
  const tab = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
  if (tab instanceof vscode.TabInputText || tab instanceof vscode.TabInputCustom) return tab.uri;
  return vscode.window.activeTextEditor?.document.uri;
}

/**
 * True when the first non-empty lines of `document` are records of a known dialogue format; for a
 * `.json` file, when it starts as a JSON array of records (its first characters only).
 */
export function looksLikeDialogueDataset(document: vscode.TextDocument): boolean {
  if (containerKindFor(document.fileName) === 'json-array') {
    return looksLikeRecordArray(document.getText(new vscode.Range(0, 0, 64, 0)).slice(0, 4096));
  }
  let seen = 0;
  for (let i = 0; i < document.lineCount && seen < SNIFF_LINES; i++) {
    const text = document.lineAt(i).text.trim();
    if (text === '') continue;
    seen++;
    try {
      if (detectRecordFormat(JSON.parse(text)) !== undefined) return true;
    } catch {
      // a malformed line: look at the next one
    }
  }
  return false;
}

class DatasetCodeLensProvider implements vscode.CodeLensProvider {
  private readonly _onDidChange = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this._onDidChange.event;

  refresh(): void {
    this._onDidChange.fire();
  }

  provideCodeLenses(document: vscode.TextDocument): vscode.CodeLens[] {
    if (!vscode.workspace.getConfiguration().get<boolean>(CODE_LENS, true)) return [];
    if (!looksLikeDialogueDataset(document)) return [];
    return [
      new vscode.CodeLens(new vscode.Range(0, 0, 0, 0), {
        title: vscode.l10n.t('$(comment-discussion) Open in Dialogue Editor'),
        tooltip: vscode.l10n.t('Show this dataset as dialogues (any file size)'),
        command: 'parrot.openInDialogueEditor',
        arguments: [document.uri],
      }),
    ];
  }

  dispose(): void {
    this._onDidChange.dispose();
  }
}

/**
 * `parrot.editor.openByDefault` is applied through VS Code's own mechanism,
 * `workbench.editorAssociations`, at the scope where the user set it — and only then: the entry is
 * added when the setting turns on and removed (if it is still ours) when it turns off.
 */
async function syncEditorAssociation(): Promise<void> {
  const config = vscode.workspace.getConfiguration();
  const inspect = config.inspect<boolean>(OPEN_BY_DEFAULT);
  const target =
    inspect?.workspaceValue !== undefined && vscode.workspace.workspaceFolders?.length
      ? vscode.ConfigurationTarget.Workspace
      : vscode.ConfigurationTarget.Global;
  const enabled = config.get<boolean>(OPEN_BY_DEFAULT, false);
  const assoc = config.inspect<Record<string, string>>(ASSOCIATIONS);
  const current =
    (target === vscode.ConfigurationTarget.Workspace ? assoc?.workspaceValue : assoc?.globalValue) ?? {};
  if (Array.isArray(current)) return; // the old array form: leave the user's settings alone
  if (enabled && current[PATTERN] !== VIEW_TYPE) {
    await config.update(ASSOCIATIONS, { ...current, [PATTERN]: VIEW_TYPE }, target);
  } else if (!enabled && current[PATTERN] === VIEW_TYPE) {
    const next = { ...current };
    delete next[PATTERN];
    await config.update(ASSOCIATIONS, Object.keys(next).length ? next : undefined, target);
  }
}

/** The open tabs of `uri` that satisfy `test`. */
function tabsOf(uri: vscode.Uri, test: (tab: vscode.Tab) => boolean): vscode.Tab[] {
  const key = uri.toString();
  return vscode.window.tabGroups.all
    .flatMap((g) => g.tabs)
    .filter((t) => test(t) && (t.input as { uri?: vscode.Uri }).uri?.toString() === key);
}

export function registerEditorCommands(context: vscode.ExtensionContext): void {
  const lenses = new DatasetCodeLensProvider();
  context.subscriptions.push(
    lenses,
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.jsonl' }, lenses),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/*.json' }, lenses),
    vscode.commands.registerCommand('parrot.openInDialogueEditor', async (arg: unknown) => {
      const uri = targetUri(arg);
      if (!uri) {
        void vscode.window.showInformationMessage(vscode.l10n.t('Open a .jsonl file first.'));
        return;
      }
      // The dialogue editor takes the place of a clean text tab of the file (one tab per file).
      const text = tabsOf(uri, (t) => t.input instanceof vscode.TabInputText);
      await vscode.commands.executeCommand(
        'vscode.openWith',
        uri,
        viewTypeFor(uri),
        text[0]?.group.viewColumn,
      );
      await vscode.window.tabGroups.close(text.filter((t) => !t.isDirty));
    }),
    vscode.commands.registerCommand('parrot.openAsText', async (arg: unknown) => {
      const uri = targetUri(arg);
      if (!uri) return;
      const dialogue = tabsOf(uri, (t) => isDialogueTab(t.input));
      if (dialogue.some((t) => t.isDirty)) {
        // The text editor shows the file on disk: unsaved dialogue edits would be out of sight.
        const save = vscode.l10n.t('Save');
        const discard = vscode.l10n.t("Don't Save");
        const choice = await vscode.window.showWarningMessage(
          vscode.l10n.t(
            '{0} has unsaved changes in the dialogue editor. Save them before reopening it as text?',
            path.basename(uri.fsPath),
          ),
          { modal: true },
          save,
          discard,
        );
        if (choice === undefined) return;
        await vscode.commands.executeCommand(
          'vscode.openWith',
          uri,
          (dialogue[0]?.input as vscode.TabInputCustom | undefined)?.viewType ?? viewTypeFor(uri),
          dialogue[0]?.group.viewColumn,
        );
        await vscode.commands.executeCommand(
          choice === save ? 'workbench.action.files.save' : 'workbench.action.files.revert',
        );
      }
      // The text editor is asked for: it is not sent back to the dialogue editor (revealFromText.ts).
      await expectText(uri, async () => {
        await vscode.commands.executeCommand(
          'vscode.openWith',
          uri,
          'default',
          dialogue[0]?.group.viewColumn,
        );
        const left = tabsOf(uri, (t) => isDialogueTab(t.input));
        await vscode.window.tabGroups.close(left.filter((t) => !t.isDirty));
      });
    }),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(CODE_LENS)) lenses.refresh();
      if (e.affectsConfiguration(OPEN_BY_DEFAULT)) {
        syncEditorAssociation().catch((err: unknown) =>
          vscode.window.showWarningMessage(
            vscode.l10n.t(
              'Could not update "{0}": {1}',
              ASSOCIATIONS,
              err instanceof Error ? err.message : String(err),
            ),
          ),
        );
      }
    }),
  );
  if (vscode.workspace.getConfiguration().get<boolean>(OPEN_BY_DEFAULT, false)) {
    syncEditorAssociation().catch(() => undefined);
  }
}

import * as vscode from 'vscode';
import { getLog } from '../log';

/**
 * Auto-save and large datasets.
 *
 * Saving a dialogue document writes the whole file anew (a temp file beside it, then a rename), so
 * with `files.autoSave` on, a 100 MB dataset would be rewritten a second after every keystroke, and
 * undo-before-save and Revert would be bypassed. VS Code auto-saves custom documents like text files
 * but does not tell the extension whether a save was asked for, so the dialogue editor decides:
 *
 * - a dataset up to `parrot.editor.autoSaveMaxSizeMB` is saved whenever VS Code saves it;
 * - a larger one is saved only when the user asks: **Ctrl+S** / **Cmd+S** in the dialogue editor,
 *   **Parrot: Save Dataset**, or **Save Now** in the notice shown the first time auto-save (or File
 *   > Save) reached it. The held save is refused with a cancellation, which VS Code treats as "not
 *   saved": the document stays dirty and its hot-exit backup is kept.
 */
export const AUTO_SAVE_MAX_MB = 'parrot.editor.autoSaveMaxSizeMB';
export const SAVE_COMMAND = 'parrot.editor.save';

export class SaveGuard {
  /** Documents whose next save the user asked for. */
  private readonly asked = new Set<string>();
  /** Documents whose held save was already explained (once per document and session). */
  private readonly told = new Set<string>();

  /** The next save of `uri` was asked for by the user: let it through. */
  allowNext(uri: vscode.Uri): void {
    this.asked.add(uri.toString());
  }

  /**
   * Whether this save of a `size`-byte file must wait for the user (and, the first time, says so).
   * Consumes an allowance given by {@link allowNext}.
   */
  hold(uri: vscode.Uri, size: number, save: () => Thenable<unknown>): boolean {
    const key = uri.toString();
    if (this.asked.delete(key)) return false;
    const mode = vscode.workspace.getConfiguration('files', uri).get<string>('autoSave', 'off');
    if (mode === 'off') return false;
    const maxMb = vscode.workspace.getConfiguration().get<number>(AUTO_SAVE_MAX_MB, 16);
    if (size <= maxMb * 1024 * 1024) return false;
    getLog().info(`Auto-save held for a ${size}-byte dataset (limit ${maxMb} MB).`);
    if (!this.told.has(key)) {
      this.told.add(key);
      const saveNow = vscode.l10n.t('Save Now');
      const settings = vscode.l10n.t('Settings');
      void vscode.window
        .showInformationMessage(
          vscode.l10n.t(
            '"{0}" ({1} MB) is not auto-saved: each save rewrites the whole dataset. Press Ctrl+S in the dialogue editor (or Save Now) to save it.',
            decodeURIComponent(uri.path.split('/').pop() ?? ''),
            (size / 1024 / 1024).toFixed(0),
          ),
          saveNow,
          settings,
        )
        .then((choice) => {
          if (choice === saveNow) {
            this.allowNext(uri);
            return save();
          }
          if (choice === settings)
            return vscode.commands.executeCommand('workbench.action.openSettings', AUTO_SAVE_MAX_MB);
          return undefined;
        });
    }
    return true;
  }
}

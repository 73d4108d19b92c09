import * as vscode from 'vscode';
import type { ActionKind, HostMessage, WebviewMessage } from '../../protocol';
import { SAVE_COMMAND } from './autoSave';
import { registerEditorCommands } from './commands';
import { registerRevealFromText } from './revealFromText';
import { localizeEditorMessages } from './strings';
import type { DialogueDocument } from './dialogueDocument';
import {
  DialogueEditorProvider,
  VIEW_TYPE,
  isDialogueTab,
  viewTypeFor,
  type MessageEvent,
} from './dialogueEditorProvider';
import { registerReviewCommands } from '../review/commands';

export { VIEW_TYPE, isDialogueTab, viewTypeFor };

/**
 * What the dialogue editor exposes through the extension's exports: enough for tests in a real
 * VS Code to drive the editor through the same message path its webview uses.
 */
export interface DialogueEditorApi {
  readonly viewType: string;
  /** Every message the host sends to a webview. */
  readonly onDidPostMessage: vscode.Event<MessageEvent<HostMessage>>;
  /** Every valid message the host received from a webview, once handled. */
  readonly onDidReceiveMessage: vscode.Event<MessageEvent<WebviewMessage>>;
  /**
   * Handles `message` as if the (first) webview showing `uri` had sent it; goes through the same
   * runtime check. Resolves to false when no editor shows `uri` or the message is invalid.
   */
  sendFromWebview(uri: vscode.Uri, message: unknown): Promise<boolean>;
  /** State of the open document for `uri`. */
  documentState(
    uri: vscode.Uri,
  ): { lineCount: number; dirty: boolean; version: number; webviews: number } | undefined;
  /** The provider VS Code calls (backup, restore, save, revert), for tests of those paths. */
  readonly provider: DialogueEditorProvider;
  /** The open document for `uri`. */
  document(uri: vscode.Uri): DialogueDocument | undefined;
  /**
   * Which inline generation actions can run: for each, the settings still missing (empty = ready).
   * Called by the generation commands whenever their settings change.
   */
  setGenerationState(missing: Record<ActionKind, string[]>): void;
}

export function registerDialogueEditor(context: vscode.ExtensionContext): DialogueEditorApi {
  localizeEditorMessages();
  const provider = DialogueEditorProvider.register(context);
  registerEditorCommands(context);
  context.subscriptions.push(registerRevealFromText(provider, VIEW_TYPE));
  context.subscriptions.push(
    vscode.commands.registerCommand(SAVE_COMMAND, async () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      if (!isDialogueTab(input)) {
        await vscode.commands.executeCommand('workbench.action.files.save');
        return;
      }
      provider.saveGuard.allowNext(input.uri);
      await vscode.workspace.save(input.uri);
    }),
  );
  const api: DialogueEditorApi = {
    viewType: VIEW_TYPE,
    onDidPostMessage: provider.onDidPostMessage,
    onDidReceiveMessage: provider.onDidReceiveMessage,
    sendFromWebview: async (uri, message) => {
      const session = provider.sessionsFor(uri)[0];
      return session ? session.receive(message) : false;
    },
    provider,
    setGenerationState: (missing) => provider.setGenerationState(missing),
    document: (uri) => provider.sessionsFor(uri)[0]?.document,
    documentState: (uri) => {
      const sessions = provider.sessionsFor(uri);
      const doc = sessions[0]?.document;
      return doc
        ? { lineCount: doc.lineCount, dirty: doc.isDirty, version: doc.version, webviews: sessions.length }
        : undefined;
    },
  };
  registerReviewCommands(context, provider, api);
  return api;
}

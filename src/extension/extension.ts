import type * as vscode from 'vscode';
import { registerDialogueEditor, type DialogueEditorApi } from './editor';
import { registerDiagnostics, type DiagnosticsApi } from './diagnostics';
import { registerLlm, type LlmApi } from './llm';
import { registerLog } from './log';
import { registerOverview, type OverviewApi } from './overview';
import { registerStatusBar, setProblemCount, statusBarText } from './statusBar';
import { registerWalkthrough } from './walkthrough';
import { registerDatasetInfo } from './datasetInfo';
import { registerConvertCommands } from './convert';
import { registerEntryMappings } from './entryMappings';

/** The extension's exports (`vscode.extensions.getExtension(...).exports`). */
export interface ParrotApi {
  editor: DialogueEditorApi;
  diagnostics: DiagnosticsApi;
  /** Sets the problem count shown in the status bar for a dataset. */
  setProblemCount: typeof setProblemCount;
  /** The dataset status bar item's text (for tests). */
  statusBarText: typeof statusBarText;
  llm: LlmApi;
  overview: OverviewApi;
}

export function activate(context: vscode.ExtensionContext): ParrotApi {
  registerLog(context);
  registerStatusBar(context);
  registerEntryMappings(context);
  const editor = registerDialogueEditor(context);
  const diagnostics = registerDiagnostics(context);
  registerWalkthrough(context);
  registerDatasetInfo(context);
  registerConvertCommands(context, editor);
  const overview = registerOverview(context, editor);
  return { editor, diagnostics, setProblemCount, statusBarText, llm: registerLlm(context, editor), overview };
}

export function deactivate(): void {
  // Everything is disposed through context.subscriptions.
}

// Waiting for the messages the dialogue editor posts to its webview, through the extension's API.
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../../src/extension/extension';
import type { HostMessage, RecordView } from '../../../src/protocol';

/** Resolves with the first message posted to a webview of `uri` that satisfies `pred`. */
export function waitForPost<T extends HostMessage>(
  api: ParrotApi,
  uri: vscode.Uri,
  pred: (m: HostMessage) => m is T,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const sub = api.editor.onDidPostMessage((e) => {
      if (e.uri.toString() !== uri.toString() || !pred(e.message)) return;
      clearTimeout(timer);
      sub.dispose();
      resolve(e.message);
    });
  });
}

/** Resolves with the next record `line` of `uri` the host posts (that satisfies `test`). */
export function postedRecord(
  api: ParrotApi,
  uri: vscode.Uri,
  line: number,
  test: (r: RecordView) => boolean = () => true,
): Promise<Extract<HostMessage, { type: 'record' }>> {
  return waitForPost(
    api,
    uri,
    (m): m is Extract<HostMessage, { type: 'record' }> =>
      m.type === 'record' && m.record.line === line && test(m.record),
    `record ${line + 1} of ${path.basename(uri.fsPath)}`,
  );
}

/** Sends `message` as the webview of `uri` would, and fails when the host refuses it. */
export async function sendAsWebview(api: ParrotApi, uri: vscode.Uri, message: unknown): Promise<void> {
  assert.equal(await api.editor.sendFromWebview(uri, message), true, JSON.stringify(message));
}

/** Runs `command` with the focus on the active editor (as a keybinding in the editor would). */
export async function onEditor(command: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand(command);
}

/**
 * Resolves once the real webview of `uri` has asked for the record it selects on load. Tests that
 * drive the editor through `sendFromWebview` wait for it first: otherwise the webview's own first
 * `openRecord`, late on a loaded machine, changes the record the host treats as shown under them.
 */
export function webviewOpenedRecord(api: ParrotApi, uri: vscode.Uri, timeoutMs = 30_000): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(
        new Error(`timed out after ${timeoutMs} ms waiting for the webview of ${path.basename(uri.fsPath)}`),
      );
    }, timeoutMs);
    const sub = api.editor.onDidReceiveMessage((e) => {
      if (e.uri.toString() !== uri.toString() || e.message.type !== 'openRecord') return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

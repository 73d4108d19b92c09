// Waiting for the messages the dialogue editor posts to its webview, through the extension's API.
import type * as vscode from 'vscode';
import type { ParrotApi } from '../../../src/extension/extension';
import type { HostMessage } from '../../../src/protocol';

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

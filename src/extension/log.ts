import * as vscode from 'vscode';

let channel: vscode.LogOutputChannel | undefined;

/** The extension's log (an output channel with levels). Never log secrets or whole records. */
export function getLog(): vscode.LogOutputChannel {
  channel ??= vscode.window.createOutputChannel('Parrot Studio', { log: true });
  return channel;
}

export function registerLog(context: vscode.ExtensionContext): void {
  const log = getLog();
  context.subscriptions.push(
    log,
    { dispose: () => (channel = undefined) },
    vscode.commands.registerCommand('parrot.showLog', () => log.show()),
  );
  log.info('Parrot Studio activated');
}

import * as vscode from 'vscode';

let log: vscode.LogOutputChannel | undefined;

export function activate(context: vscode.ExtensionContext): void {
  log = vscode.window.createOutputChannel('Parrot Studio', { log: true });
  context.subscriptions.push(log);
  context.subscriptions.push(vscode.commands.registerCommand('parrot.showLog', () => log?.show()));
  log.info('Parrot Studio activated');
}

export function deactivate(): void {
  log = undefined;
}

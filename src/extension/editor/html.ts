import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The webview page: a strict Content Security Policy with a per-load nonce; scripts, styles and
 * fonts only from the extension's dist/ folder.
 */
export function webviewHtml(
  webview: vscode.Webview,
  distUri: vscode.Uri,
  title: string,
  /** The page's script in dist/ (the dialogue editor's by default). */
  scriptName = 'webview.js',
  /** Images from `https:` URLs too (the user allowed remote media). */
  remoteImages = false,
): string {
  const nonce = randomBytes(18).toString('base64');
  const csp = [
    `default-src 'none'`,
    `script-src 'nonce-${nonce}'`,
    `style-src ${webview.cspSource} 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:${remoteImages ? ' https:' : ''}`,
  ].join('; ');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(distUri, scriptName)).toString();
  const codicons = webview.asWebviewUri(vscode.Uri.joinPath(distUri, 'codicon.css')).toString();
  return `<!DOCTYPE html>
<html lang="${escapeAttr(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${escapeAttr(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${escapeAttr(codicons)}" id="vscode-codicon-stylesheet" nonce="${nonce}">
<title>${escapeAttr(title)}</title>
</head>
<body>
<div id="root"></div>
<script nonce="${nonce}" src="${escapeAttr(script)}"></script>
</body>
</html>`;
}

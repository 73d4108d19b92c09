// The dataset status bar item follows the open dataset's record count while it is indexed, also
// when indexing ends before the dialogue editor's webview has loaded.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/protocol';
import { waitForPost } from './support/webview';

describe('status bar', function () {
  this.timeout(120_000);
  let api: ParrotApi;
  let tmp: string;

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>('parrot-studio.parrot-studio');
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-status-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the final record count once indexing ends, without a tab switch', async () => {
    const lines = 1_200_000;
    const file = path.join(tmp, 'many.jsonl');
    const line =
      '{"conversations":[{"from":"human","value":"Hi there, how are you?"},{"from":"gpt","value":"Fine."}]}\n';
    fs.writeFileSync(file, line.repeat(lines));
    const uri = vscode.Uri.file(file);
    const indexed = waitForPost(
      api,
      uri,
      (m: HostMessage): m is Extract<HostMessage, { type: 'status' }> => m.type === 'status' && !m.indexing,
      'the end of indexing',
      60_000,
    );
    await vscode.commands.executeCommand('vscode.openWith', uri, 'parrot.dialogueEditor', { preview: false });
    const status = await indexed;
    assert.equal(status.lineCount, lines);
    assert.equal(api.statusBarText(), `$(comment-discussion) ${lines.toLocaleString()} records`);
  });
});

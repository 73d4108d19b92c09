// KTO labels and stepwise step labels in the dialogue editor (real extension host): shown in the
// record view, toggled through the webview message path, saved with only the label changed.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage, RecordOk, RecordView } from '../../src/protocol';
import { waitForPost } from './support/webview';
import { datasetsIn } from '../support/fixtures';

const VIEW_TYPE = 'parrot.dialogueEditor';
let api: ParrotApi;
let tmp: string;

function recordFor(uri: vscode.Uri, line: number, test: (r: RecordView) => boolean, what: string) {
  return waitForPost(
    api,
    uri,
    (m): m is Extract<HostMessage, { type: 'record' }> =>
      m.type === 'record' && m.record.line === line && test(m.record),
    what,
    30_000,
  );
}

function ok(r: RecordView): RecordOk {
  assert.ok(r.ok);
  return r;
}

async function save(uri: vscode.Uri): Promise<void> {
  const clean = waitForPost(
    api,
    uri,
    (m): m is Extract<HostMessage, { type: 'status' }> => m.type === 'status' && !m.dirty,
    'a clean status after saving',
    30_000,
  );
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand('workbench.action.files.save');
  await clean;
}

describe('dialogue editor: labels', function () {
  this.timeout(90_000);

  before(async () => {
    const ext = vscode.extensions.getExtension('parrot-studio.parrot-studio');
    assert.ok(ext);
    api = (await ext.activate()) as ParrotApi;
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-labels-'));
  });

  after(async () => {
    for (let i = 0; i < 10 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++)
      await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('shows the KTO label of kto_en_demo and toggles it; the save changes only that value', async () => {
    const ext = vscode.extensions.getExtension('parrot-studio.parrot-studio');
    assert.ok(ext);
    const src = path.join(datasetsIn(ext.extensionPath), 'llamafactory-data', 'kto_en_demo.jsonl');
    const file = path.join(tmp, 'kto.jsonl');
    fs.copyFileSync(src, file);
    const uri = vscode.Uri.file(file);
    const first = recordFor(uri, 0, () => true, 'record 1');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const r = ok((await first).record);
    assert.equal(r.format, 'llamafactory-kto');
    assert.equal(r.label, true);

    const flipped = recordFor(uri, 0, (x) => x.ok && x.label === false, 'record 1 with label false');
    assert.equal(await api.editor.sendFromWebview(uri, { type: 'setLabel', line: 0, label: false }), true);
    await flipped;
    await save(uri);
    const before = fs.readFileSync(src, 'utf8').split('\n');
    const after = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(after.length, before.length);
    assert.equal(after[0], before[0].replace(/"label":true\}$/, '"label":false}'));
    assert.notEqual(after[0], before[0]);
    assert.deepEqual(after.slice(1), before.slice(1));
  });

  it('shows and toggles a stepwise step label; a label-less record refuses the edit', async () => {
    const line = JSON.stringify({
      prompt: 'Which is larger, 9.8 or 9.11?',
      completions: ['9.8 = 9.80.', '9.11 is larger.'],
      labels: [true, false],
    });
    const file = path.join(tmp, 'steps.jsonl');
    fs.writeFileSync(file, line + '\n');
    const uri = vscode.Uri.file(file);
    const first = recordFor(uri, 0, () => true, 'record 1');
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const r = ok((await first).record);
    assert.deepEqual(
      r.turns.map((t) => t.label),
      [undefined, true, false],
    );
    const flipped = recordFor(uri, 0, (x) => x.ok && x.turns[2]?.label === true, 'step 2 marked correct');
    assert.equal(
      await api.editor.sendFromWebview(uri, { type: 'setLabel', line: 0, turn: 2, label: true }),
      true,
    );
    await flipped;
    const refused = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'error' }> => m.type === 'error',
      'an error for the prompt, which has no label',
      30_000,
    );
    assert.equal(
      await api.editor.sendFromWebview(uri, { type: 'setLabel', line: 0, turn: 0, label: true }),
      true,
    );
    assert.match((await refused).message, /no label/);
    await save(uri);
    assert.equal(
      fs.readFileSync(file, 'utf8'),
      JSON.stringify({ ...JSON.parse(line), labels: [true, true] }) + '\n',
    );
  });
});

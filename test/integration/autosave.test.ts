// Auto-save and dialogue datasets: the profile `npm start` and the tests use has auto-save off, and
// the extension keeps a dataset from being rewritten behind the user's back when auto-save is on.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/protocol';
import { waitForPost } from './support/webview';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';

describe('auto-save', function () {
  this.timeout(60_000);
  let api: ParrotApi;
  let tmp: string;
  const files = () => vscode.workspace.getConfiguration('files');

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-autosave-'));
  });

  // The user settings as the profile wrote them, put back afterwards (removing a key would bring
  // back code-server's own default, auto-save on, for every later test).
  const profile: [string, string, unknown][] = [];
  async function setGlobal(section: string, key: string, value: unknown): Promise<void> {
    const config = vscode.workspace.getConfiguration(section);
    if (!profile.some(([s, k]) => s === section && k === key))
      profile.push([section, key, config.inspect(key)?.globalValue]);
    await config.update(key, value, vscode.ConfigurationTarget.Global);
  }

  after(async () => {
    for (const [section, key, value] of profile.reverse())
      await vscode.workspace.getConfiguration(section).update(key, value, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('is off in the profile the tests and `npm start` run with', () => {
    assert.equal(files().inspect('autoSave')?.globalValue, 'off');
  });

  /** A fresh copy of a real dataset, opened in the dialogue editor with its first turn edited. */
  async function editedCopy(name: string): Promise<{ uri: vscode.Uri; before: Buffer }> {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const target = path.join(tmp, `${Date.now()}-${name}`);
    fs.copyFileSync(path.join(datasetsIn(ext.extensionPath), 'fastchat_dummy_conversation.jsonl'), target);
    fs.chmodSync(target, 0o644);
    const uri = vscode.Uri.file(target);
    const text = `An edit of ${name}`;
    const isRecord =
      (want?: string) =>
      (m: HostMessage): m is Extract<HostMessage, { type: 'record' }> =>
        m.type === 'record' &&
        m.record.line === 0 &&
        (want === undefined ||
          (m.record.ok && m.record.kind === 'dialogue' && m.record.turns[0]?.text === want));
    const first = waitForPost(api, uri, isRecord(), 'record 1');
    await vscode.commands.executeCommand('vscode.openWith', uri, 'parrot.dialogueEditor', { preview: false });
    await first;
    const edited = waitForPost(api, uri, isRecord(text), 'the edited record');
    const message = { type: 'editTurn', line: 0, section: 'turns', turn: 0, text };
    assert.equal(await api.editor.sendFromWebview(uri, message), true);
    await edited;
    assert.equal(api.editor.documentState(uri)?.dirty, true);
    return { uri, before: fs.readFileSync(target) };
  }

  /** Resolves when `uri`'s document is clean, or rejects after `ms`. */
  function saved(uri: vscode.Uri, ms = 10_000): Promise<void> {
    return new Promise((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (api.editor.documentState(uri)?.dirty === false) {
          clearInterval(poll);
          resolve();
        } else if (Date.now() - started > ms) {
          clearInterval(poll);
          reject(new Error(`not saved within ${ms} ms`));
        }
      }, 50);
    });
  }

  async function autoSaveOn(maxMb: number): Promise<void> {
    await setGlobal('files', 'autoSave', 'afterDelay');
    await setGlobal('files', 'autoSaveDelay', 200);
    await setGlobal('parrot.editor', 'autoSaveMaxSizeMB', maxMb);
  }

  it('holds the auto-save of a dataset over the size limit; Parrot: Save Dataset saves it', async () => {
    await autoSaveOn(0); // every dataset is "large"
    const { uri, before } = await editedCopy('large.jsonl');
    // An absence can only be checked over a bounded time: ten auto-save delays.
    await new Promise((r) => setTimeout(r, 2_000));
    assert.equal(api.editor.documentState(uri)?.dirty, true, 'still unsaved');
    assert.ok(fs.readFileSync(uri.fsPath).equals(before), 'the file on disk is unchanged');

    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    await vscode.commands.executeCommand('parrot.editor.save');
    await saved(uri);
    assert.match(fs.readFileSync(uri.fsPath, 'utf8'), /An edit of large\.jsonl/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('auto-saves a dataset under the size limit as VS Code would', async () => {
    await autoSaveOn(16);
    const { uri } = await editedCopy('small.jsonl');
    await saved(uri);
    assert.match(fs.readFileSync(uri.fsPath, 'utf8'), /An edit of small\.jsonl/);
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });
});

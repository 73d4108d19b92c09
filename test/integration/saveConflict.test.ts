// A save refused because another program replaced the file, inside the real VS Code extension host:
// VS Code's Save goes to the dialogue editor, nothing is written, and the choices offered — Compare,
// Save As…, Reload — each do what they say.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RefusedSave } from '../../src/extension/editor/dialogueDocument';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage } from '../../src/protocol';
import { datasetsIn } from '../support/fixtures';
import { waitForPost } from './support/webview';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
const TIMEOUT = 30_000;

function within<T>(p: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), TIMEOUT);
    p.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

function nextEvent<T>(
  event: vscode.Event<T>,
  what: string,
  test: (e: T) => boolean = () => true,
): Promise<T> {
  return within(
    new Promise<T>((resolve) => {
      const sub = event((e) => {
        if (!test(e)) return;
        sub.dispose();
        resolve(e);
      });
    }),
    what,
  );
}

describe('dialogue editor: a save refused after another program replaced the file', function () {
  this.timeout(120_000);
  let api: ParrotApi;
  let tmp: string;

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-conflict-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  /** Opens `uri` in the dialogue editor and changes record 1's first question to "Mine.". */
  async function openAndEdit(uri: vscode.Uri): Promise<void> {
    const first = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'record' }> => m.type === 'record' && m.record.line === 0,
      'record 1',
    );
    await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
    await first;
    const edited = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'record' }> =>
        m.type === 'record' && m.record.line === 0 && m.record.ok && m.record.turns[0]?.text === 'Mine.',
      'the edited record',
    );
    assert.equal(
      await api.editor.sendFromWebview(uri, {
        type: 'editTurn',
        line: 0,
        section: 'turns',
        turn: 0,
        text: 'Mine.',
      }),
      true,
    );
    await edited;
  }

  it('refuses the save, keeps their file, and offers Compare, Save As… and Reload that work', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const source = path.join(datasetsIn(ext.extensionPath), 'mt_bench_questions.jsonl');
    const target = path.join(tmp, 'questions.jsonl');
    fs.copyFileSync(source, target);
    const original = fs.readFileSync(target, 'utf8');
    const uri = vscode.Uri.file(target);

    await openAndEdit(uri);
    const doc = api.editor.document(uri);
    assert.ok(doc);
    assert.equal(doc.isDirty, true);

    // Another program writes its version to a new file and renames it over ours (like `jq … > t && mv t f`).
    const theirs = '{"question_id": 1, "category": "writing", "turns": ["Their version."]}\n';
    fs.writeFileSync(target + '.new', theirs);
    fs.renameSync(target + '.new', target);

    const refused = nextEvent<RefusedSave>(doc.onDidRefuseSave, 'the refused save');
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    void vscode.commands.executeCommand('workbench.action.files.save');
    const r = await refused;
    assert.equal(r.reason, 'replaced');
    assert.match(r.message, /another program replaced it/);
    assert.deepEqual(r.choices, ['reload', 'saveAs', 'compare']);
    assert.equal(fs.readFileSync(target, 'utf8'), theirs, 'their file is kept');
    assert.equal(doc.isDirty, true, 'my edits are kept');

    // The expected version of mine: the original with record 1's question replaced.
    const mineText = (await doc.store.readLines(0, doc.store.lineCount)).join('\n') + '\n';
    assert.ok(mineText.split('\n')[0]?.includes('"Mine."'));
    assert.deepEqual(mineText.split('\n').slice(1), original.split('\n').slice(1));

    // Compare: a diff of the file on disk with my version.
    const diffShown = nextEvent(vscode.window.tabGroups.onDidChangeTabs, 'the diff editor', () => {
      const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
      return input instanceof vscode.TabInputTextDiff;
    });
    const mine = await doc.resolveRefusedSave('compare');
    await diffShown;
    assert.ok(mine);
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    assert.ok(input instanceof vscode.TabInputTextDiff);
    assert.equal(input.original.fsPath, target);
    assert.equal(input.modified.fsPath, mine.fsPath);
    assert.equal(fs.readFileSync(mine.fsPath, 'utf8'), mineText);

    // Save As…: my edits plus the original bytes the document still holds open.
    const copy = vscode.Uri.file(path.join(tmp, 'mine.jsonl'));
    await doc.resolveRefusedSave('saveAs', copy);
    assert.equal(fs.readFileSync(copy.fsPath, 'utf8'), mineText);
    assert.equal(fs.readFileSync(target, 'utf8'), theirs);

    // Reload: their version, and VS Code no longer counts the document as dirty.
    const reloaded = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'status' }> =>
        m.type === 'status' && !m.indexing && m.lineCount === 1,
      'the reloaded document',
    );
    await doc.resolveRefusedSave('reload');
    await reloaded;
    assert.equal(doc.isDirty, false);
    const tab = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === target);
    assert.ok(tab, 'the dialogue editor is open');
    assert.equal(tab.isDirty, false, 'VS Code sees it clean');
    assert.equal(fs.readFileSync(target, 'utf8'), theirs);
  });

  it('asks before breaking a hard link, and "Save anyway" breaks it', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const target = path.join(tmp, 'linked.jsonl');
    const other = path.join(tmp, 'other-name.jsonl');
    fs.copyFileSync(path.join(datasetsIn(ext.extensionPath), 'mt_bench_questions.jsonl'), target);
    fs.linkSync(target, other);
    const original = fs.readFileSync(target, 'utf8');
    const uri = vscode.Uri.file(target);
    await openAndEdit(uri);
    const doc = api.editor.document(uri);
    assert.ok(doc);

    const refused = nextEvent<RefusedSave>(doc.onDidRefuseSave, 'the refused save');
    await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
    void vscode.commands.executeCommand('workbench.action.files.save');
    const r = await refused;
    assert.equal(r.reason, 'hardlink');
    assert.match(r.message, /1 other name \(hard link\)/);
    assert.deepEqual(r.choices, ['breakLink', 'saveAs']);
    assert.equal(fs.readFileSync(target, 'utf8'), original);

    const saved = nextEvent(doc.onDidChangeContent, 'the save', () => !doc.isDirty);
    await doc.resolveRefusedSave('breakLink');
    await saved;
    const mine = fs.readFileSync(target, 'utf8');
    assert.ok(mine.split('\n')[0]?.includes('"Mine."'));
    assert.deepEqual(mine.split('\n').slice(1), original.split('\n').slice(1));
    assert.equal(fs.readFileSync(other, 'utf8'), original, 'the other name keeps the old content');
    const tab = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((t) => t.input instanceof vscode.TabInputCustom && t.input.uri.fsPath === target);
    assert.equal(tab?.isDirty, false, 'VS Code sees it saved');
  });
});

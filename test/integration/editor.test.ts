// The dialogue editor inside the real VS Code extension host: opening every shared dataset, edits
// through the webview message path, undo/redo, save (byte comparison), revert, hot-exit backup and
// restore, malformed lines, two editor groups, search.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage, RecordOk, RecordView } from '../../src/protocol';
import { waitForPost as waitForWebviewPost } from './support/webview';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
const VIEW_TYPE = 'parrot.dialogueEditor';
const TIMEOUT = 30_000;

let api: ParrotApi;
let tmp: string;

function datasetsDir(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext, `extension ${EXTENSION_ID} is not loaded`);
  return datasetsIn(ext.extensionPath);
}

/** A fresh copy of a shared dataset (or of `content`) in a temp folder. */
function copyOf(name: string, content?: string): vscode.Uri {
  const target = path.join(tmp, `${Date.now()}-${Math.random().toString(36).slice(2, 8)}-${name}`);
  if (content === undefined) fs.copyFileSync(path.join(datasetsDir(), name), target);
  else fs.writeFileSync(target, content);
  fs.chmodSync(target, 0o644);
  return vscode.Uri.file(target);
}

function linesOf(bytes: Buffer): string[] {
  return bytes.toString('utf8').split('\n');
}

/** Resolves with the first message posted to a webview of `uri` that satisfies `pred`. */
function waitForPost<T extends HostMessage>(
  uri: vscode.Uri,
  pred: (m: HostMessage) => m is T,
  what: string,
  timeoutMs = TIMEOUT,
): Promise<T> {
  return waitForWebviewPost(api, uri, pred, what, timeoutMs);
}

function recordFor(uri: vscode.Uri, line: number, test: (r: RecordView) => boolean = () => true, what = '') {
  return waitForPost(
    uri,
    (m): m is Extract<HostMessage, { type: 'record' }> =>
      m.type === 'record' && m.record.line === line && test(m.record),
    `record ${line + 1} of ${path.basename(uri.fsPath)} ${what}`,
  );
}

function statusFor(
  uri: vscode.Uri,
  test: (m: Extract<HostMessage, { type: 'status' }>) => boolean,
  what: string,
) {
  return waitForPost(
    uri,
    (m): m is Extract<HostMessage, { type: 'status' }> => m.type === 'status' && test(m),
    what,
  );
}

/** Opens `uri` in the dialogue editor and waits until its webview has loaded and shown record 1. */
async function openEditor(uri: vscode.Uri, column = vscode.ViewColumn.One): Promise<RecordView> {
  const first = recordFor(uri, 0);
  await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, {
    viewColumn: column,
    preview: false,
  });
  return (await first).record;
}

function ok(r: RecordView): RecordOk {
  assert.ok(r.ok, `record ${r.line + 1} did not parse: ${r.ok ? '' : r.error.message}`);
  return r;
}

/**
 * Runs a workbench command on the dialogue editor: focus goes to the editor first, because undo,
 * redo, save and revert go to whatever has focus (a text input elsewhere would take undo).
 */
async function onEditor(command: string): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.focusActiveEditorGroup');
  await vscode.commands.executeCommand(command);
}

async function send(uri: vscode.Uri, message: unknown): Promise<void> {
  assert.equal(
    await api.editor.sendFromWebview(uri, message),
    true,
    `message refused: ${JSON.stringify(message)}`,
  );
}

/** Closes every editor, discarding unsaved edits (no save prompt). */
async function closeAll(): Promise<void> {
  for (let i = 0; i < 30 && vscode.window.tabGroups.all.some((g) => g.tabs.length > 0); i++) {
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  }
}

describe('dialogue editor', function () {
  this.timeout(120_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-editor-'));
  });

  after(async () => {
    await closeAll();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  afterEach(closeAll);

  it('opens every shared dataset and sends its first dialogue to the webview', async () => {
    // Every dialogue dataset; MT-Bench's reference answers are judge material, not a dataset to edit.
    const names = fs
      .readdirSync(datasetsDir())
      .filter((n) => n.endsWith('.jsonl') && !n.startsWith('mt_bench_reference_answers'));
    assert.ok(names.length >= 7, `datasets found: ${names.join(', ')}`);
    for (const name of names) {
      const uri = copyOf(name);
      const firstLine = linesOf(fs.readFileSync(uri.fsPath))[0] ?? '';
      const record = ok(await openEditor(uri));
      assert.equal(record.raw, firstLine, `${name}: record 1 is the first line`);
      const turns = record.kind === 'dialogue' ? record.turns : [...record.prompt, ...record.chosen];
      assert.ok(turns.length > 0, `${name}: record 1 has turns`);
      const state = api.editor.documentState(uri);
      assert.ok(state && state.lineCount > 0 && !state.dirty, `${name}: state ${JSON.stringify(state)}`);
      await closeAll();
    }
  });

  it('edits a turn through the webview message path; undo, redo and save change only that line', async () => {
    const uri = copyOf('fastchat_dummy_conversation.jsonl');
    const before = fs.readFileSync(uri.fsPath);
    const original = ok(await openEditor(uri));
    assert.ok(original);
    const line = 3;
    const opened = recordFor(uri, line);
    await send(uri, { type: 'openRecord', line });
    const shown = ok((await opened).record);
    const oldText = shown.turns[0]?.text ?? '';

    const edited = recordFor(
      uri,
      line,
      (r) => r.ok && r.turns[0]?.text === 'Edited question, "quoted" — ünïcode',
    );
    await send(uri, {
      type: 'editTurn',
      line,
      section: 'turns',
      turn: 0,
      text: 'Edited question, "quoted" — ünïcode',
    });
    await edited;
    assert.equal(api.editor.documentState(uri)?.dirty, true);

    const undone = recordFor(uri, line, (r) => r.ok && r.turns[0]?.text === oldText);
    await onEditor('undo');
    await undone;
    assert.equal(api.editor.documentState(uri)?.dirty, false, 'clean again after undo');

    const redone = recordFor(
      uri,
      line,
      (r) => r.ok && r.turns[0]?.text === 'Edited question, "quoted" — ünïcode',
    );
    await onEditor('redo');
    await redone;

    await onEditor('workbench.action.files.save');
    assert.equal(api.editor.documentState(uri)?.dirty, false, 'clean after save');
    const after = fs.readFileSync(uri.fsPath);
    const a = linesOf(before);
    const b = linesOf(after);
    assert.equal(b.length, a.length, 'same number of lines');
    const changed = a.map((l, i) => (l === b[i] ? -1 : i)).filter((i) => i >= 0);
    assert.deepEqual(changed, [line], 'only the edited line changed');
    const value = JSON.parse(b[line] ?? '') as { conversations: { value: string }[] };
    assert.equal(value.conversations[0]?.value, 'Edited question, "quoted" — ünïcode');
    // Same keys, same order as before.
    assert.deepEqual(Object.keys(value), Object.keys(JSON.parse(a[line] ?? '') as object));
  });

  it('adds, moves, changes the role of and deletes turns, one undoable edit each', async () => {
    const uri = copyOf('fastchat_dummy_conversation.jsonl');
    const first = ok(await openEditor(uri));
    const n = first.turns.length;
    const states = [first.raw];
    let next = recordFor(uri, 0, (r) => r.ok && r.turns.length === n + 1, 'with a turn added');
    await send(uri, { type: 'addTurn', line: 0, section: 'turns', after: n - 1, role: 'user' });
    const added = ok((await next).record);
    assert.equal(added.turns[n]?.role, 'user');
    assert.equal(added.turns[n]?.text, '');
    states.push(added.raw);
    let r: RecordView = added;

    next = recordFor(uri, 0, (x) => x.ok && x.turns[0]?.role === 'assistant', 'with a role changed');
    await send(uri, { type: 'setRole', line: 0, section: 'turns', turn: 0, role: 'assistant' });
    states.push((await next).record.raw);

    next = recordFor(uri, 0, (x) => x.ok && x.turns[1]?.text === first.turns[0]?.text, 'with a turn moved');
    await send(uri, { type: 'moveTurn', line: 0, section: 'turns', turn: 0, delta: 1 });
    states.push((await next).record.raw);

    next = recordFor(uri, 0, (x) => x.ok && x.turns.length === n, 'with a turn deleted');
    await send(uri, { type: 'deleteTurn', line: 0, section: 'turns', turn: n });
    await next;

    // Four edits: each undo steps back one state, to the first record exactly.
    for (let i = states.length - 1; i >= 0; i--) {
      const undone = recordFor(uri, 0, (x) => x.raw === states[i], `after undo back to state ${i}`);
      await onEditor('undo');
      r = (await undone).record;
    }
    assert.equal(r.raw, first.raw);
    assert.equal(api.editor.documentState(uri)?.dirty, false);
  });

  it('adds, duplicates and deletes dialogues', async () => {
    const uri = copyOf('mt_bench_questions.jsonl');
    await openEditor(uri);
    const count = api.editor.documentState(uri)?.lineCount ?? 0;
    assert.equal(count, 80);
    const reveal = waitForPost(
      uri,
      (m): m is Extract<HostMessage, { type: 'reveal' }> => m.type === 'reveal',
      'reveal',
    );
    await send(uri, { type: 'duplicateDialogue', line: 0 });
    assert.equal((await reveal).line, 1);
    assert.equal(api.editor.documentState(uri)?.lineCount, 81);
    await send(uri, { type: 'addDialogue', after: 1 });
    assert.equal(api.editor.documentState(uri)?.lineCount, 82);
    const opened = recordFor(uri, 2);
    await send(uri, { type: 'openRecord', line: 2 });
    const added = await opened;
    assert.ok(added.record.ok && added.record.format === 'mt-bench', 'a new record in the file format');
    await send(uri, { type: 'deleteDialogue', line: 2 });
    await send(uri, { type: 'deleteDialogue', line: 1 });
    assert.equal(api.editor.documentState(uri)?.lineCount, 80);
    await onEditor('workbench.action.files.save');
    assert.deepEqual(
      fs.readFileSync(uri.fsPath),
      fs.readFileSync(path.join(datasetsDir(), 'mt_bench_questions.jsonl')),
    );
  });

  it('gives duplicated and added dialogues fresh ids, changing nothing else', async () => {
    const uri = copyOf('fastchat_dummy_conversation.jsonl');
    await openEditor(uri);
    const idAt = async (line: number): Promise<string | undefined> => {
      const opened = recordFor(uri, line);
      await send(uri, { type: 'openRecord', line });
      const r = (await opened).record;
      return r.ok ? r.id : undefined;
    };
    const original = await idAt(0);
    assert.equal(original, 'identity_0');
    await send(uri, { type: 'duplicateDialogue', line: 0 });
    const copy = await idAt(1);
    assert.ok(copy && copy !== original && copy.startsWith('identity_0-'), `duplicate id ${copy}`);
    const first = recordFor(uri, 0);
    await send(uri, { type: 'openRecord', line: 0 });
    const second = recordFor(uri, 1);
    await send(uri, { type: 'openRecord', line: 1 });
    const [a, b] = [(await first).record, (await second).record];
    assert.ok(a.ok && b.ok);
    assert.equal(b.raw.replace(copy, 'identity_0'), a.raw, 'only the id differs');
    await send(uri, { type: 'addDialogue', after: 1 });
    const added = await idAt(2);
    assert.ok(added && added !== original && added !== copy, `new dialogue id ${added}`);
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });

  it('Open in Dialogue Editor and Reopen as Text replace the tab of the file, not add one', async () => {
    const uri = copyOf('fastchat_dummy_conversation.jsonl');
    const tabs = (): { text: number; dialogue: number } => {
      const all = vscode.window.tabGroups.all
        .flatMap((g) => g.tabs)
        .filter((t) => (t.input as { uri?: vscode.Uri }).uri?.toString() === uri.toString());
      return {
        text: all.filter((t) => t.input instanceof vscode.TabInputText).length,
        dialogue: all.filter((t) => t.input instanceof vscode.TabInputCustom).length,
      };
    };
    await vscode.window.showTextDocument(uri);
    assert.deepEqual(tabs(), { text: 1, dialogue: 0 });
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('parrot.openInDialogueEditor', uri);
    await first;
    assert.deepEqual(tabs(), { text: 0, dialogue: 1 });
    await vscode.commands.executeCommand('parrot.openAsText', uri);
    assert.deepEqual(tabs(), { text: 1, dialogue: 0 });
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('refuses invalid messages from the webview', async () => {
    const uri = copyOf('mt_bench_questions.jsonl');
    await openEditor(uri);
    const version = api.editor.documentState(uri)?.version;
    for (const bad of [
      { type: 'editTurn', line: -1, section: 'turns', turn: 0, text: 'x' },
      { type: 'editTurn', line: 0, section: 'turns', turn: 0 },
      { type: 'setRole', line: 0, section: 'turns', turn: 0, role: 'admin' },
      { type: 'requestRows', lines: ['0'] },
      { type: 'nope' },
      null,
      'editTurn',
    ]) {
      assert.equal(await api.editor.sendFromWebview(uri, bad), false, JSON.stringify(bad));
    }
    assert.equal(api.editor.documentState(uri)?.version, version, 'nothing was applied');
  });

  it('reverts to the file on disk', async () => {
    const uri = copyOf('llamafactory_v1_sft_demo.jsonl');
    const first = ok(await openEditor(uri));
    const edited = recordFor(uri, 0, (r) => r.ok && r.turns[1]?.text === 'changed', 'edited');
    await send(uri, { type: 'editTurn', line: 0, section: 'turns', turn: 1, text: 'changed' });
    await edited;
    assert.equal(api.editor.documentState(uri)?.dirty, true);
    const status = statusFor(uri, (m) => m.reloaded, 'a reload after revert');
    await onEditor('workbench.action.files.revert');
    await status;
    const reverted = recordFor(uri, 0, (r) => r.raw === first.raw, 'as on disk');
    await send(uri, { type: 'openRecord', line: 0 });
    await reverted;
    assert.equal(api.editor.documentState(uri)?.dirty, false);
    assert.deepEqual(
      fs.readFileSync(uri.fsPath),
      fs.readFileSync(path.join(datasetsDir(), 'llamafactory_v1_sft_demo.jsonl')),
    );
  });

  it('writes a hot-exit backup of the edit overlay and restores it', async () => {
    const uri = copyOf('llamafactory_dpo_en_demo.jsonl');
    ok(await openEditor(uri));
    const edited = recordFor(uri, 5, (r) => r.ok && r.chosen[0]?.text === 'A better answer.');
    await send(uri, { type: 'editTurn', line: 5, section: 'chosen', turn: 0, text: 'A better answer.' });
    await edited;
    const doc = api.editor.document(uri);
    assert.ok(doc);
    const destination = vscode.Uri.file(path.join(tmp, 'backup-' + path.basename(uri.fsPath) + '.json'));
    const token = new vscode.CancellationTokenSource().token;
    const backup = await api.editor.provider.backupCustomDocument(doc, { destination }, token);
    const json = JSON.parse(fs.readFileSync(destination.fsPath, 'utf8')) as {
      format: string;
      segments: unknown[];
    };
    assert.equal(json.format, 'parrot-store-backup');
    assert.ok(
      fs.statSync(destination.fsPath).size < fs.statSync(uri.fsPath).size / 4,
      'the backup holds edits, not the file',
    );

    const restored = await api.editor.provider.openCustomDocument(
      uri,
      { backupId: backup.id, untitledDocumentData: undefined },
      token,
    );
    try {
      assert.equal(restored.isDirty, true);
      const text = await restored.store.readLine(5);
      const value = JSON.parse(text) as { chosen: { value: string } };
      assert.equal(value.chosen.value, 'A better answer.');
      assert.equal(await restored.store.readLine(4), linesOf(fs.readFileSync(uri.fsPath))[4]);
    } finally {
      restored.dispose();
      backup.delete();
    }
  });

  it('shows a malformed line with its error position and saves the fix', async () => {
    const good =
      '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]}';
    const bad = '{"messages": [{"role": "user", "content": "hi"}, {"role": "assistant" "content": "oops"}]}';
    const uri = copyOf('malformed.jsonl', `${good}\n${bad}\n${good}\n`);
    await openEditor(uri);
    const opened = recordFor(uri, 1);
    await send(uri, { type: 'openRecord', line: 1 });
    const shown = (await opened).record;
    assert.equal(shown.ok, false);
    assert.ok(!shown.ok);
    assert.equal(shown.raw, bad);
    assert.equal(shown.error.column, bad.indexOf('"content": "oops"') + 1, shown.error.message);

    // A fix that is still not JSON is refused with its position.
    const refused = waitForPost(
      uri,
      (m): m is Extract<HostMessage, { type: 'error' }> => m.type === 'error',
      'an error',
    );
    await send(uri, { type: 'replaceRecord', line: 1, text: '{"messages": [' });
    assert.match((await refused).message, /column \d+/);

    const fixedText = bad.replace('"assistant" "content"', '"assistant", "content"');
    const fixed = recordFor(uri, 1, (r) => r.ok);
    await send(uri, { type: 'replaceRecord', line: 1, text: fixedText });
    assert.equal(ok((await fixed).record).turns[1]?.text, 'oops');
    await onEditor('workbench.action.files.save');
    assert.equal(fs.readFileSync(uri.fsPath, 'utf8'), `${good}\n${fixedText}\n${good}\n`);
  });

  it('keeps two editor groups on one document in step', async () => {
    const uri = copyOf('llamafactory_glaive_toolcall_en_demo.jsonl');
    await openEditor(uri, vscode.ViewColumn.One);
    await openEditor(uri, vscode.ViewColumn.Two);
    assert.equal(api.editor.documentState(uri)?.webviews, 2);
    let seen = 0;
    const both = new Promise<void>((resolve) => {
      const sub = api.editor.onDidPostMessage((e) => {
        if (
          e.uri.toString() === uri.toString() &&
          e.message.type === 'record' &&
          e.message.record.line === 0
        ) {
          if (e.message.record.ok && e.message.record.turns[0]?.text === 'same everywhere' && ++seen === 2) {
            sub.dispose();
            resolve();
          }
        }
      });
    });
    await send(uri, { type: 'editTurn', line: 0, section: 'turns', turn: 0, text: 'same everywhere' });
    await both;
    assert.equal(seen, 2);
  });

  it('searches the whole file (text and regex) and filters by turns and validity', async () => {
    const name = 'fastchat_dummy_conversation.jsonl';
    const uri = copyOf(name);
    await openEditor(uri);
    const lines = linesOf(fs.readFileSync(uri.fsPath)).filter((l) => l !== '');
    const expected = (re: RegExp) =>
      lines
        .map((l, i) => {
          const v = JSON.parse(l) as { id: string; conversations: { value: string }[] };
          return [v.id, ...v.conversations.map((c) => c.value)].some((s) => re.test(s)) ? i : -1;
        })
        .filter((i) => i >= 0);
    const run = async (id: number, query: object): Promise<number[]> => {
      const hits: number[] = [];
      const sub = api.editor.onDidPostMessage((e) => {
        if (
          e.uri.toString() === uri.toString() &&
          e.message.type === 'queryProgress' &&
          e.message.id === id
        ) {
          hits.push(...e.message.hits.map((h) => h.line));
        }
      });
      const done = waitForPost(
        uri,
        (m): m is Extract<HostMessage, { type: 'queryDone' }> => m.type === 'queryDone' && m.id === id,
        'query done',
      );
      await send(uri, { type: 'query', id, query });
      const d = await done;
      sub.dispose();
      assert.equal(d.cancelled, false);
      assert.equal(d.matched, hits.length);
      return hits;
    };
    const text = await run(1, { text: 'Vicuna' });
    assert.deepEqual(text, expected(/vicuna/i));
    assert.ok(text.length > 0);
    const regex = await run(2, { text: '\\bLMSYS\\b', regex: true, caseSensitive: true });
    assert.deepEqual(regex, expected(/\bLMSYS\b/u));
    const long = await run(3, { minTurns: 4 });
    assert.deepEqual(
      long,
      lines
        .map((l, i) => ((JSON.parse(l) as { conversations: unknown[] }).conversations.length >= 4 ? i : -1))
        .filter((i) => i >= 0),
    );
    assert.deepEqual(await run(4, { invalidOnly: true }), []);
    const error = waitForPost(
      uri,
      (m): m is Extract<HostMessage, { type: 'queryDone' }> => m.type === 'queryDone' && m.id === 5,
      'done',
    );
    await send(uri, { type: 'query', id: 5, query: { text: '(', regex: true } });
    assert.match((await error).error ?? '', /regular expression/i);
  });

  it('reloads a clean document when the file changes on disk', async () => {
    // Inside the workspace folder, where VS Code's file watcher always runs.
    const folder = vscode.workspace.workspaceFolders?.[0];
    assert.ok(folder, 'no workspace folder');
    const dir = path.join(folder.uri.fsPath, 'editor-test-external');
    fs.mkdirSync(dir, { recursive: true });
    const target = path.join(dir, 'mt_bench_questions.jsonl');
    fs.copyFileSync(path.join(datasetsDir(), 'mt_bench_questions.jsonl'), target);
    fs.chmodSync(target, 0o644);
    const uri = vscode.Uri.file(target);
    await openEditor(uri);
    assert.equal(api.editor.documentState(uri)?.lineCount, 80);
    const extra = '{"question_id": 999, "category": "writing", "turns": ["Added by another program."]}\n';
    const reloaded = statusFor(
      uri,
      (m) => !m.indexing && m.lineCount === 81,
      'the document re-read with 81 records',
    );
    fs.appendFileSync(uri.fsPath, extra);
    await reloaded;
    const last = recordFor(uri, 80, (r) => r.ok && r.turns[0]?.text === 'Added by another program.');
    await send(uri, { type: 'openRecord', line: 80 });
    await last;
    assert.equal(api.editor.documentState(uri)?.dirty, false);
    await closeAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('offers "Open in Dialogue Editor" as a CodeLens on dialogue datasets only', async () => {
    const dataset = copyOf('llamafactory_alpaca_en_demo.jsonl');
    const other = copyOf('not-dialogues.jsonl', '{"x": 1}\n{"y": 2}\n');
    const lensesOf = async (uri: vscode.Uri) => {
      await vscode.workspace.openTextDocument(uri);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
      );
      return lenses.filter((l) => l.command?.command === 'parrot.openInDialogueEditor');
    };
    const found = await lensesOf(dataset);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.range.start.line, 0);
    assert.deepEqual(await lensesOf(other), []);
    // The lens's command opens the dialogue editor.
    const first = recordFor(dataset, 0);
    const lens = found[0];
    assert.ok(lens?.command);
    const args: unknown[] = lens.command.arguments ?? [];
    assert.ok(args[0] instanceof vscode.Uri && args[0].toString() === dataset.toString());
    await vscode.commands.executeCommand(lens.command.command, ...args);
    assert.ok((await first).record.ok);
  });

  it('applies parrot.editor.openByDefault through workbench.editorAssociations, and removes it again', async () => {
    const config = () => vscode.workspace.getConfiguration();
    const associations = () =>
      config().inspect<Record<string, string>>('workbench.editorAssociations')?.globalValue ?? {};
    const changed = (want: boolean) =>
      new Promise<void>((resolve) => {
        const sub = vscode.workspace.onDidChangeConfiguration((e) => {
          if (
            e.affectsConfiguration('workbench.editorAssociations') &&
            (associations()['*.jsonl'] === VIEW_TYPE) === want
          ) {
            sub.dispose();
            resolve();
          }
        });
      });
    const on = changed(true);
    await config().update('parrot.editor.openByDefault', true, vscode.ConfigurationTarget.Global);
    await on;
    assert.equal(associations()['*.jsonl'], VIEW_TYPE);
    const off = changed(false);
    await config().update('parrot.editor.openByDefault', undefined, vscode.ConfigurationTarget.Global);
    await off;
    assert.equal(associations()['*.jsonl'], undefined);
  });
});

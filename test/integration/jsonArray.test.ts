// JSON array datasets (.json) in the real extension host: LLaMA-Factory's dpo_en_demo.json (bytes as
// published) opened in the dialogue editor, a turn edited, records added, duplicated and deleted,
// saved (the file stays valid JSON in its own style), undone back to the original bytes; diagnostics
// on the file's own lines; a .json file that is not an array of records says so with its position.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { HostMessage, RecordView } from '../../src/protocol';
import { onEditor, postedRecord, sendAsWebview, waitForPost } from './support/webview';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
const VIEW_TYPE = 'parrot.dialogueEditor';

let api: ParrotApi;
let tmp: string;

function containersDir(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  return path.join(datasetsIn(ext.extensionPath), 'containers');
}

function copyOf(name: string, content?: string): vscode.Uri {
  const target = path.join(tmp, `${Math.random().toString(36).slice(2, 8)}-${name}`);
  if (content === undefined) fs.copyFileSync(path.join(containersDir(), name), target);
  else fs.writeFileSync(target, content);
  return vscode.Uri.file(target);
}

const recordFor = (uri: vscode.Uri, line: number, test?: (r: RecordView) => boolean) =>
  postedRecord(api, uri, line, test);
const send = (uri: vscode.Uri, message: unknown): Promise<void> => sendAsWebview(api, uri, message);

/** The published files are Python's json.dump(indent=2, ensure_ascii=False) and a newline. */
function pretty(items: unknown[]): string {
  return JSON.stringify(items, null, 2) + '\n';
}

describe('JSON array datasets in the dialogue editor', function () {
  this.timeout(120_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-jsonarray-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('opens llamafactory_dpo_en_demo.json, edits a turn, adds, duplicates and deletes records, saves valid JSON in its own style, and undoes to the original bytes', async () => {
    const uri = copyOf('llamafactory_dpo_en_demo.json');
    const original = fs.readFileSync(uri.fsPath);
    const items = JSON.parse(original.toString('utf8')) as Array<{ chosen: { value: string } }>;
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const r0 = (await first).record;
    assert.ok(
      r0.ok && r0.format === 'sharegpt-preference',
      `record 1 read as ${r0.ok ? r0.format : 'broken'}`,
    );
    assert.equal(api.editor.documentState(uri)?.lineCount, 300);

    const edited = recordFor(uri, 5, (r) => r.ok && r.chosen[0]?.text === 'A better answer, "quoted" — ü.');
    await send(uri, {
      type: 'editTurn',
      line: 5,
      section: 'chosen',
      turn: 0,
      text: 'A better answer, "quoted" — ü.',
    });
    await edited;
    await send(uri, { type: 'duplicateDialogue', line: 0 });
    await send(uri, { type: 'deleteDialogue', line: 10 });
    await send(uri, { type: 'addDialogue', after: 299 });
    assert.equal(api.editor.documentState(uri)?.lineCount, 301);
    await onEditor('workbench.action.files.save');
    assert.equal(api.editor.documentState(uri)?.dirty, false);

    const savedText = fs.readFileSync(uri.fsPath, 'utf8');
    const saved = JSON.parse(savedText) as unknown[];
    assert.equal(saved.length, 301);
    // Exactly the published layout around every record, the edited and the new ones included.
    assert.equal(savedText, pretty(saved));
    const expected: unknown[] = items.slice();
    expected[5] = { ...items[5], chosen: { ...items[5].chosen, value: 'A better answer, "quoted" — ü.' } };
    expected.splice(1, 0, saved[1]); // the duplicate (its content as record 1's)
    assert.deepEqual(saved[1], items[0]);
    expected.splice(10, 1);
    expected.push(saved[300]); // the new record at the end
    assert.deepEqual(saved, expected);

    // Undo the four edits (across the save) and save again: the original bytes.
    for (let i = 0; i < 4; i++) await onEditor('undo');
    await onEditor('workbench.action.files.save');
    assert.ok(fs.readFileSync(uri.fsPath).equals(original), 'undo brings back the published bytes');
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });

  it('reports problems of a JSON array dataset on the lines of the file', async () => {
    const text =
      '[\n  {\n    "messages": [\n      {\n        "role": "usr",\n        "content": "hi"\n      }\n    ]\n  }\n]\n';
    const uri = copyOf('roles.json', text);
    const got = new Promise<vscode.Diagnostic[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no diagnostics for roles.json')), 30_000);
      const sub = vscode.languages.onDidChangeDiagnostics((e) => {
        if (!e.uris.some((u) => u.toString() === uri.toString())) return;
        const ds = vscode.languages.getDiagnostics(uri);
        if (!ds.some((d) => d.code === 'role/invalid')) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(ds);
      });
    });
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const role = (await got).find((d) => d.code === 'role/invalid');
    assert.ok(role);
    // `"usr"` is on line 5 (0-based 4), from column 17.
    assert.equal(role.range.start.line, 4);
    assert.equal(text.split('\n')[4].slice(role.range.start.character, role.range.end.character), '"usr"');
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });

  it('offers "Open in Dialogue Editor" as a CodeLens on .json arrays of records only', async () => {
    const lensesOf = async (uri: vscode.Uri) => {
      await vscode.workspace.openTextDocument(uri);
      const lenses = await vscode.commands.executeCommand<vscode.CodeLens[]>(
        'vscode.executeCodeLensProvider',
        uri,
      );
      return lenses.filter((l) => l.command?.command === 'parrot.openInDialogueEditor');
    };
    const dataset = copyOf('llamafactory_glaive_toolcall_en_demo.json');
    const found = await lensesOf(dataset);
    assert.equal(found.length, 1);
    assert.equal(found[0]?.range.start.line, 0);
    assert.deepEqual(await lensesOf(copyOf('config.json', '{\n  "a": [1, 2]\n}\n')), []);
    assert.deepEqual(await lensesOf(copyOf('list.json', '[1, 2, 3]\n')), []);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a .json file that is not an array of records shows why, with its position, instead of records', async () => {
    const uri = copyOf(
      'dataset_info.json',
      '{\n  "alpaca_en_demo": {\n    "file_name": "alpaca_en_demo.json"\n  }\n}\n',
    );
    const status = waitForPost(
      api,
      uri,
      (m): m is Extract<HostMessage, { type: 'status' }> => m.type === 'status' && m.problem !== undefined,
      'a status with the problem',
    );
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const m = await status;
    assert.match(
      m.problem ?? '',
      /not a dataset: the file is a JSON object, not an array of records \(line 1, column 1\)/,
    );
    assert.equal(m.lineCount, 0);
    const numbers = copyOf('numbers.json', '[\n  1,\n  2\n]\n');
    const st2 = waitForPost(
      api,
      numbers,
      (x): x is Extract<HostMessage, { type: 'status' }> => x.type === 'status' && x.problem !== undefined,
      'a status with the problem',
    );
    await vscode.commands.executeCommand('vscode.openWith', numbers, VIEW_TYPE, { preview: false });
    assert.match((await st2).problem ?? '', /array of numbers, not of records.*line 2, column 3/);
    // The file was not touched.
    assert.equal(fs.readFileSync(numbers.fsPath, 'utf8'), '[\n  1,\n  2\n]\n');
  });
});

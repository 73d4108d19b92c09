// Files read through their dataset_info.json entry in the real extension host: records whose
// columns, message keys and role tags the entry renames open in the dialogue editor as dialogues,
// edits are saved under the file's own names (untouched records keep their bytes), and the
// diagnostics of an open dataset follow dataset_info.json as it changes, is deleted and created.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { RecordView } from '../../src/protocol';
import { onEditor, postedRecord, sendAsWebview } from './support/webview';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
const VIEW_TYPE = 'parrot.dialogueEditor';

let api: ParrotApi;
let fixtures = '';
const dirs: string[] = [];

/** A copy of llamafactory-renamed/ (the data files and their dataset_info.json) in a new folder. */
function copyFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-dsinfo-editor-'));
  dirs.push(dir);
  for (const f of fs.readdirSync(fixtures)) fs.copyFileSync(path.join(fixtures, f), path.join(dir, f));
  return dir;
}

/** Resolves once the diagnostics of `uri` satisfy `test` (now or later), or fails after `ms`. */
function diagnosticsWhere(
  uri: vscode.Uri,
  test: (ds: vscode.Diagnostic[]) => boolean,
  what: string,
  ms = 30_000,
  trigger?: () => void,
): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const now = vscode.languages.getDiagnostics(uri);
    if (test(now)) return resolve(now);
    const again = trigger ? setInterval(trigger, 2_000) : undefined;
    const done = (): void => {
      clearTimeout(timer);
      clearInterval(again);
      sub.dispose();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (!e.uris.some((u) => u.toString() === uri.toString())) return;
      const ds = vscode.languages.getDiagnostics(uri);
      if (!test(ds)) return;
      done();
      resolve(ds);
    });
    trigger?.();
  });
}

const errors = (ds: vscode.Diagnostic[]): number =>
  ds.filter((d) => d.source === 'parrot' && d.severity === vscode.DiagnosticSeverity.Error).length;

describe('datasets read through their dataset_info.json entry (dialogue editor, diagnostics)', function () {
  this.timeout(120_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    fixtures = path.join(datasetsIn(ext.extensionPath), 'llamafactory-renamed');
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  it('a ShareGPT file with renamed columns, keys and roles opens as dialogues; edits are saved under its own names, other lines byte for byte', async () => {
    const dir = copyFolder();
    const uri = vscode.Uri.file(path.join(dir, 'glaive_renamed.jsonl'));
    const original = fs.readFileSync(uri.fsPath, 'utf8');
    const lines = original.split('\n');
    const first = postedRecord(api, uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const r0 = (await first).record;
    assert.ok(r0.ok, `record 1 is broken: ${JSON.stringify(r0)}`);
    assert.equal(r0.format, 'sharegpt');
    const ROLES: Record<string, string> = {
      asker: 'user',
      bot: 'assistant',
      call: 'function_call',
      result: 'observation',
    };
    const file0 = JSON.parse(lines[0]) as { dialog: { speaker: string; text: string }[] };
    assert.deepEqual(
      r0.turns.map((t) => [t.role, t.text]),
      file0.dialog.map((m) => [ROLES[m.speaker], m.text]),
    );
    assert.ok(r0.turns.some((t) => t.role === 'function_call'));
    assert.match(r0.turns[0].text, /^Hi, I have some ingredients/);
    assert.ok(r0.tools?.includes('search_recipes'));

    const answer = 'Tell me what is in your fridge, "quoted" too.';
    const edited = postedRecord(api, uri, 0, (r: RecordView) => r.ok && r.turns[1]?.text === answer);
    await sendAsWebview(api, uri, { type: 'editTurn', line: 0, section: 'turns', turn: 1, text: answer });
    await edited;
    const r2 = JSON.parse(lines[2]) as { dialog: unknown[] };
    const grown = postedRecord(
      api,
      uri,
      2,
      (r: RecordView) => r.ok && r.turns.length === r2.dialog.length + 1 && r.turns.at(-1)?.role === 'user',
    );
    await sendAsWebview(api, uri, {
      type: 'addTurn',
      line: 2,
      section: 'turns',
      after: r2.dialog.length - 1,
      role: 'user',
    });
    await grown;
    await onEditor('workbench.action.files.save');
    assert.equal(api.editor.documentState(uri)?.dirty, false);

    const saved = fs.readFileSync(uri.fsPath, 'utf8').split('\n');
    assert.equal(saved.length, lines.length);
    for (let i = 0; i < lines.length; i++)
      if (i !== 0 && i !== 2) assert.equal(saved[i], lines[i], `line ${i + 1}`);
    // The edited lines: the file's key names, role tags and json.dumps style, only the edit differs.
    const dumps = (s: string): string =>
      JSON.stringify(s).replace(
        /[\u0080-\uffff]/g,
        (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'),
      );
    const old0 = (JSON.parse(lines[0]) as { dialog: { text: string }[] }).dialog[1].text;
    assert.equal(saved[0], lines[0].replace(dumps(old0), dumps(answer)));
    const s2 = JSON.parse(saved[2]) as { dialog: { speaker: string; text: string }[] };
    assert.deepEqual(s2.dialog.slice(0, -1), r2.dialog);
    assert.deepEqual(s2.dialog.at(-1), { speaker: 'asker', text: '' });
    assert.ok(
      saved[2].startsWith(lines[2].slice(0, lines[2].indexOf('], "funcs"'))),
      'the untouched messages keep their bytes',
    );
    await onEditor('workbench.action.closeActiveEditor');
  });

  it('an Alpaca JSON array with renamed columns (question / context / answer) edits and saves under its names', async () => {
    const dir = copyFolder();
    const uri = vscode.Uri.file(path.join(dir, 'alpaca_renamed.json'));
    const original = fs.readFileSync(uri.fsPath, 'utf8');
    const items = JSON.parse(original) as { question: string; context: string; answer: string }[];
    const opened = postedRecord(api, uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    await opened;
    const first = postedRecord(api, uri, 1);
    await sendAsWebview(api, uri, { type: 'openRecord', line: 1 });
    const r1 = (await first).record;
    assert.ok(r1.ok && r1.format === 'alpaca', JSON.stringify(r1));
    assert.deepEqual(
      r1.turns.map((t) => [t.role, t.text]),
      [
        ['user', items[1].question],
        ['assistant', items[1].answer],
      ],
    );
    const edited = postedRecord(
      api,
      uri,
      1,
      (r: RecordView) => r.ok && r.turns[1]?.text === 'The car raced.',
    );
    await sendAsWebview(api, uri, {
      type: 'editTurn',
      line: 1,
      section: 'turns',
      turn: 1,
      text: 'The car raced.',
    });
    await edited;
    await onEditor('workbench.action.files.save');
    const savedText = fs.readFileSync(uri.fsPath, 'utf8');
    assert.equal(original.split(JSON.stringify(items[1].answer)).length, 2, 'the old answer is unique');
    assert.equal(
      savedText,
      original.replace(JSON.stringify(items[1].answer), JSON.stringify('The car raced.')),
    );
    await onEditor('workbench.action.closeActiveEditor');
  });

  it('the diagnostics of an open dataset follow its dataset_info.json: changed, deleted, created again', async () => {
    const dir = copyFolder();
    const info = path.join(dir, 'dataset_info.json');
    const infoText = fs.readFileSync(info, 'utf8');
    const uri = vscode.Uri.file(path.join(dir, 'glaive_renamed.jsonl'));
    const first = postedRecord(api, uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    await first;
    // Validated through the entry: the file's warnings (duplicates, tool-call shapes), no error.
    const clean = await diagnosticsWhere(
      uri,
      (ds) => ds.length > 0 && errors(ds) === 0,
      'the diagnostics of the first validation',
    );
    assert.ok(clean.every((d) => d.severity !== vscode.DiagnosticSeverity.Error));

    // The entry loses its renames: the records are of no known format.
    const parsed = JSON.parse(infoText) as Record<string, Record<string, unknown>>;
    delete parsed.glaive_renamed.tags;
    delete parsed.glaive_renamed.columns;
    const broken = postedRecord(api, uri, 0, (r) => !r.ok);
    fs.writeFileSync(info, JSON.stringify(parsed, null, 2) + '\n');
    const bad = await diagnosticsWhere(uri, (ds) => errors(ds) >= 50, 'errors after the entry changed');
    assert.ok(
      bad.some((d) => d.code === 'format/unknown'),
      bad[0]?.message,
    );
    // The dialogue editor reads the records again (the webview drops its rows and asks again).
    await sendAsWebview(api, uri, { type: 'openRecord', line: 0 });
    assert.equal((await broken).record.ok, false);

    // Back as it was, then deleted, then created again.
    fs.writeFileSync(info, infoText);
    await diagnosticsWhere(
      uri,
      (ds) => ds.length > 0 && errors(ds) === 0,
      'clean diagnostics with the entry back',
    );
    fs.rmSync(info);
    await diagnosticsWhere(uri, (ds) => errors(ds) >= 50, 'errors once dataset_info.json is deleted');
    fs.writeFileSync(info, infoText);
    await diagnosticsWhere(
      uri,
      (ds) => ds.length > 0 && errors(ds) === 0,
      'clean diagnostics once it is created again',
    );
    await onEditor('workbench.action.closeActiveEditor');
  });

  it('a JSONL file open as text is validated through its entry, again when dataset_info.json changes', async () => {
    const dir = copyFolder();
    const info = path.join(dir, 'dataset_info.json');
    const infoText = fs.readFileSync(info, 'utf8');
    const uri = vscode.Uri.file(path.join(dir, 'glaive_renamed.jsonl'));
    await vscode.window.showTextDocument(uri);
    await diagnosticsWhere(
      uri,
      (ds) => ds.length > 0 && errors(ds) === 0,
      'the text document validated clean',
    );
    const parsed = JSON.parse(infoText) as Record<string, Record<string, unknown>>;
    parsed.glaive_renamed.file_name = 'elsewhere.jsonl';
    const changed = JSON.stringify(parsed, null, 2) + '\n';
    fs.writeFileSync(info, changed);
    // Written again until seen: a file watcher just created may not be live when the first write lands.
    await diagnosticsWhere(
      uri,
      (ds) => errors(ds) >= 50,
      'errors once the entry names another file',
      30_000,
      () => fs.writeFileSync(info, changed),
    );
    fs.writeFileSync(info, infoText);
    await diagnosticsWhere(uri, (ds) => ds.length > 0 && errors(ds) === 0, 'clean again');
    await onEditor('workbench.action.closeActiveEditor');
  });

  it('an open dataset_info.json checks its entries again when a file they name changes on disk', async () => {
    const dir = copyFolder();
    const info = vscode.Uri.file(path.join(dir, 'dataset_info.json'));
    const missing = (ds: vscode.Diagnostic[]): boolean =>
      ds.some((d) => d.code === 'dataset-info/missing-column');
    const file = path.join(dir, 'dpo_renamed.jsonl');
    const text = fs.readFileSync(file, 'utf8');
    // The data file lacks the column the entry names as `rejected`: an error at the entry.
    fs.writeFileSync(file, text.replace(/"bad": /g, '"worse": '));
    await vscode.window.showTextDocument(info);
    const ds = await diagnosticsWhere(info, missing, 'dataset-info/missing-column when opened');
    const line = fs.readFileSync(info.fsPath, 'utf8').split('\n')[ds[0].range.start.line];
    assert.match(line, /"rejected": "bad"/);
    // The file gets the column back on disk: the entry's error goes. (Written again until seen:
    // a file watcher just created may not be live yet when the first write lands.)
    await diagnosticsWhere(
      info,
      (d) => !missing(d),
      'no missing column once the file is back',
      30_000,
      () => fs.writeFileSync(file, text),
    );
    fs.writeFileSync(file, text.replace(/"bad": /g, '"worse": '));
    await diagnosticsWhere(info, missing, 'the missing column again');
    await onEditor('workbench.action.closeActiveEditor');
  });
});

import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

interface Summary {
  total: number;
  errors: number;
  shown: number;
  lines: number;
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri.fsPath;
}

function parrotDiagnostics(uri: vscode.Uri): vscode.Diagnostic[] {
  return vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'parrot');
}

/** Resolves when the parrot diagnostics of `uri` satisfy `ok` (checked now and on every change). */
function waitForDiagnostics(
  uri: vscode.Uri,
  ok: (ds: vscode.Diagnostic[]) => boolean,
  what: string,
  timeoutMs = 20_000,
): Promise<vscode.Diagnostic[]> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const ds = parrotDiagnostics(uri);
      if (!ok(ds)) return false;
      clearTimeout(timer);
      sub.dispose();
      resolve(ds);
      return true;
    };
    const sub = vscode.languages.onDidChangeDiagnostics((e) => {
      if (e.uris.some((u) => u.toString() === uri.toString())) check();
    });
    const timer = setTimeout(() => {
      sub.dispose();
      const got = parrotDiagnostics(uri).map(
        (d) => `${d.range.start.line}:${typeof d.code === 'string' ? d.code : '?'}`,
      );
      reject(new Error(`timed out waiting for ${what}; diagnostics now: ${got.join(', ') || 'none'}`));
    }, timeoutMs);
    check();
  });
}

function byCode(ds: vscode.Diagnostic[], code: string): vscode.Diagnostic[] {
  return ds.filter((d) => d.code === code);
}

const goodLine = JSON.stringify({
  id: 'a',
  conversations: [
    { from: 'human', value: 'What is a hash map?' },
    { from: 'gpt', value: 'A table of keys and values.' },
  ],
});
const emptyLine = JSON.stringify({
  id: 'b',
  conversations: [
    { from: 'human', value: 'Explain it again — shorter.' },
    { from: 'gpt', value: '   ' },
  ],
});
const brokenLine = '{"id": "c", "conversations": [{"from": "human", "value": "hi"} {"from": "gpt"}]}';

describe('diagnostics', function () {
  this.timeout(60_000);
  const created: string[] = [];

  function writeDataset(name: string, lines: string[]): vscode.Uri {
    const file = path.join(workspaceDir(), name);
    fs.writeFileSync(file, lines.join('\n') + '\n');
    created.push(file);
    return vscode.Uri.file(file);
  }

  before(async () => {
    await vscode.extensions.getExtension('parrot-studio.parrot-studio')?.activate();
  });

  afterEach(async () => {
    const cfg = vscode.workspace.getConfiguration('parrot.validation');
    await cfg.update('rules', undefined, vscode.ConfigurationTarget.Workspace);
    await cfg.update('maxProblems', undefined, vscode.ConfigurationTarget.Workspace);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  after(() => {
    for (const f of created) fs.rmSync(f, { force: true });
  });

  it('puts problems of a text-editor dataset at the exact range of the offending value', async () => {
    const uri = writeDataset('diag-text.jsonl', [goodLine, emptyLine, brokenLine]);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const ds = await waitForDiagnostics(
      uri,
      (d) => byCode(d, 'content/empty').length > 0 && byCode(d, 'json/syntax').length > 0,
      'content/empty and json/syntax',
    );

    const [empty] = byCode(ds, 'content/empty');
    const start = emptyLine.indexOf('"   "');
    assert.equal(empty.range.start.line, 1);
    assert.equal(empty.range.start.character, start, 'starts at the empty value');
    assert.equal(empty.range.end.character, start + '"   "'.length, 'ends after the empty value');
    assert.equal(empty.severity, vscode.DiagnosticSeverity.Warning);

    const [syntax] = byCode(ds, 'json/syntax');
    assert.equal(syntax.range.start.line, 2);
    assert.equal(syntax.range.start.character, brokenLine.indexOf('} {') + 2, 'points at the missing comma');
    assert.equal(syntax.severity, vscode.DiagnosticSeverity.Error);
    assert.equal(
      ds.filter((d) => d.range.start.line === 0).length,
      0,
      'the valid first record has no problem',
    );
  });

  it('invalid UTF-8 in a text-editor dataset is an error at the first bad byte (the text only shows U+FFFD)', async () => {
    const file = path.join(workspaceDir(), 'diag-utf8.jsonl');
    const prefix = '{"id": "u", "conversations": [{"from": "human", "value": "caf\u00e9 ';
    fs.writeFileSync(
      file,
      Buffer.concat([
        Buffer.from(goodLine + '\n' + prefix),
        Buffer.from([0xc3, 0x28]), // a 2-byte lead followed by '('
        Buffer.from('"}, {"from": "gpt", "value": "ok"}]}\n'),
      ]),
    );
    created.push(file);
    const uri = vscode.Uri.file(file);
    await vscode.window.showTextDocument(await vscode.workspace.openTextDocument(uri));
    const ds = await waitForDiagnostics(uri, (d) => byCode(d, 'json/encoding').length > 0, 'json/encoding');
    const [enc] = byCode(ds, 'json/encoding');
    assert.equal(enc.range.start.line, 1);
    assert.equal(enc.range.start.character, prefix.length, 'at the first bad byte, in UTF-16 columns');
    assert.equal(enc.severity, vscode.DiagnosticSeverity.Error);
    assert.match(enc.message, /invalid UTF-8: byte 0xC3/);
  });

  it('validates again on save and follows the rule settings', async () => {
    const uri = writeDataset('diag-save.jsonl', [goodLine, emptyLine]);
    const doc = await vscode.workspace.openTextDocument(uri);
    const editor = await vscode.window.showTextDocument(doc);
    await waitForDiagnostics(uri, (d) => byCode(d, 'content/empty').length === 1, 'content/empty');

    // Fix the empty answer in the editor and save: the problem goes away.
    const line = doc.lineAt(1);
    const col = line.text.indexOf('"   "');
    await editor.edit((e) => e.replace(new vscode.Range(1, col, 1, col + 5), '"Shorter: key -> value."'));
    await doc.save();
    await waitForDiagnostics(uri, (d) => d.length === 0, 'no problems after the fix');
    assert.ok(fs.readFileSync(uri.fsPath, 'utf8').includes('Shorter: key -> value.'));

    // Break it again, then turn the rule off: the setting takes effect without another save.
    await editor.edit((e) => e.replace(doc.lineAt(1).range, emptyLine));
    await doc.save();
    await waitForDiagnostics(uri, (d) => byCode(d, 'content/empty').length === 1, 'content/empty again');
    await vscode.workspace
      .getConfiguration('parrot.validation')
      .update('rules', { 'content/empty': 'off' }, vscode.ConfigurationTarget.Workspace);
    await waitForDiagnostics(uri, (d) => byCode(d, 'content/empty').length === 0, 'rule turned off');
  });

  it('validates a file on disk with the command, caps the list with a summary entry', async () => {
    const lines = [goodLine];
    for (let i = 0; i < 30; i++) lines.push(`{"id": "x${i}", "conversations": [`); // 30 broken lines
    const uri = writeDataset('diag-many.jsonl', lines);
    await vscode.workspace
      .getConfiguration('parrot.validation')
      .update('maxProblems', 10, vscode.ConfigurationTarget.Workspace);

    const summary = await vscode.commands.executeCommand<Summary | undefined>('parrot.validateDataset', uri);
    assert.ok(summary, 'the command returns what it found');
    assert.equal(summary.lines, 31);
    assert.equal(summary.total, 30);
    assert.equal(summary.errors, 30);

    const ds = parrotDiagnostics(uri);
    assert.equal(ds.length, 11, '10 problems and one summary entry');
    const summaryEntry = ds.find((d) => d.code === 'summary/truncated');
    assert.ok(summaryEntry, 'a summary entry stands for the rest');
    assert.match(summaryEntry.message, /20 more problems/);
    assert.deepEqual(
      ds.filter((d) => d.code === 'json/syntax').map((d) => d.range.start.line),
      [1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
    );
  });

  it('validates a dataset again when it changes on disk', async () => {
    const uri = writeDataset('diag-disk.jsonl', [goodLine]);
    const first = await vscode.commands.executeCommand<Summary | undefined>('parrot.validateDataset', uri);
    assert.equal(first?.total, 0);
    fs.appendFileSync(uri.fsPath, emptyLine + '\n');
    const ds = await waitForDiagnostics(
      uri,
      (d) => byCode(d, 'content/empty').length === 1,
      'the file watcher',
    );
    assert.equal(byCode(ds, 'content/empty')[0].range.start.line, 1);
  });
});

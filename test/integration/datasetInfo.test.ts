import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { datasetsIn } from '../support/fixtures';

interface RegisterResult {
  infoPath: string;
  name: string;
  entry: Record<string, unknown>;
  format: string;
  created: boolean;
}

function workspaceDir(): string {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'no workspace folder is open');
  return folder.uri.fsPath;
}

describe('Register in dataset_info.json (parrot.registerDatasetInfo)', function () {
  this.timeout(60_000);
  const dirs: string[] = [];
  let fixtures = '';

  before(async () => {
    const ext = vscode.extensions.getExtension('parrot-studio.parrot-studio');
    assert.ok(ext);
    await ext.activate();
    fixtures = datasetsIn(ext.extensionPath);
  });

  after(() => {
    for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
  });

  function folder(): string {
    const d = fs.mkdtempSync(path.join(workspaceDir(), 'lf-data-'));
    dirs.push(d);
    return d;
  }

  it('is contributed and registered', async () => {
    const all = await vscode.commands.getCommands(true);
    assert.ok(all.includes('parrot.registerDatasetInfo'));
  });

  it("adds LLaMA-Factory's own entry for kto_en_demo.json, every other byte of dataset_info.json kept", async () => {
    const dir = folder();
    const info = path.join(dir, 'dataset_info.json');
    fs.copyFileSync(path.join(fixtures, 'llamafactory-data', 'dataset_info.json'), info);
    fs.copyFileSync(
      path.join(fixtures, 'llamafactory-data', 'kto_en_demo.json'),
      path.join(dir, 'kto_en_demo.json'),
    );
    const before = fs.readFileSync(info, 'utf8');
    const theirs = (JSON.parse(before) as Record<string, unknown>).kto_en_demo;

    // Already registered: without a name the command says so and writes nothing.
    const none = await vscode.commands.executeCommand<RegisterResult | undefined>(
      'parrot.registerDatasetInfo',
      vscode.Uri.file(path.join(dir, 'kto_en_demo.json')),
    );
    assert.equal(none, undefined);
    assert.equal(fs.readFileSync(info, 'utf8'), before);

    const r = await vscode.commands.executeCommand<RegisterResult | undefined>(
      'parrot.registerDatasetInfo',
      vscode.Uri.file(path.join(dir, 'kto_en_demo.json')),
      'kto_en_demo_copy',
    );
    assert.ok(r);
    assert.equal(r.format, 'llamafactory-kto');
    assert.equal(r.created, false);
    const after = fs.readFileSync(info, 'utf8');
    const head = before.slice(0, before.lastIndexOf('}')).replace(/\s+$/, '');
    assert.equal(after.slice(0, head.length), head);
    const parsed = JSON.parse(after) as Record<string, unknown>;
    assert.deepEqual(parsed.kto_en_demo_copy, theirs);
    assert.equal(Object.keys(parsed).length, Object.keys(JSON.parse(before) as object).length + 1);
  });

  it('an open dataset_info.json shows the problems of its entries, at the entry', async () => {
    const dir = folder();
    const info = path.join(dir, 'dataset_info.json');
    const text = fs
      .readFileSync(path.join(fixtures, 'llamafactory-data', 'dataset_info.json'), 'utf8')
      .replace('"kto_tag": "label"', '"kto_tag": "kto_label"');
    fs.writeFileSync(info, text);
    fs.copyFileSync(
      path.join(fixtures, 'llamafactory-data', 'kto_en_demo.json'),
      path.join(dir, 'kto_en_demo.json'),
    );
    const uri = vscode.Uri.file(info);
    const got = new Promise<vscode.Diagnostic[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        sub.dispose();
        reject(new Error('no dataset-info/missing-column diagnostic within 20 s'));
      }, 20_000);
      const sub = vscode.languages.onDidChangeDiagnostics((e) => {
        if (!e.uris.some((u) => u.toString() === uri.toString())) return;
        const ds = vscode.languages
          .getDiagnostics(uri)
          .filter((d) => d.code === 'dataset-info/missing-column');
        if (ds.length === 0) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(ds);
      });
    });
    await vscode.window.showTextDocument(uri);
    const ds = await got;
    assert.equal(ds.length, 1);
    assert.equal(ds[0].severity, vscode.DiagnosticSeverity.Error);
    const line = text.split('\n')[ds[0].range.start.line];
    assert.equal(line.slice(ds[0].range.start.character, ds[0].range.end.character), '"kto_label"');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('creates dataset_info.json beside a JSONL dataset that has none', async () => {
    const dir = folder();
    const file = path.join(dir, 'chat.jsonl');
    fs.copyFileSync(path.join(fixtures, 'fastchat_dummy_conversation.jsonl'), file);
    const r = await vscode.commands.executeCommand<RegisterResult | undefined>(
      'parrot.registerDatasetInfo',
      vscode.Uri.file(file),
      'chat',
    );
    assert.ok(r);
    assert.equal(r.created, true);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'dataset_info.json'), 'utf8')), {
      chat: { file_name: 'chat.jsonl', formatting: 'sharegpt', columns: { messages: 'conversations' } },
    });
  });

  it('refuses a format dataset_info.json cannot describe, and writes nothing', async () => {
    const dir = folder();
    const file = path.join(dir, 'mt.jsonl');
    fs.copyFileSync(path.join(fixtures, 'mt_bench_questions.jsonl'), file);
    const r = await vscode.commands.executeCommand<RegisterResult | undefined>(
      'parrot.registerDatasetInfo',
      vscode.Uri.file(file),
      'mt',
    );
    assert.equal(r, undefined);
    assert.equal(fs.existsSync(path.join(dir, 'dataset_info.json')), false);
  });
  it('the diagnostics of a file read through its entry: renamed columns and roles validate clean, problems at the keys in the file', async () => {
    const dir = folder();
    const file = path.join(dir, 'renamed.jsonl');
    const rec = (answer: string): string =>
      JSON.stringify({
        dialog: [
          { speaker: 'asker', text: 'What is a hash map?' },
          { speaker: 'bot', text: answer },
        ],
      });
    fs.writeFileSync(file, rec('A table of keys and values.') + '\n' + rec('') + '\n');
    const info = path.join(dir, 'dataset_info.json');
    fs.writeFileSync(
      info,
      JSON.stringify({
        renamed: {
          file_name: 'renamed.jsonl',
          formatting: 'sharegpt',
          columns: { messages: 'dialog' },
          tags: { role_tag: 'speaker', content_tag: 'text', user_tag: 'asker', assistant_tag: 'bot' },
        },
      }),
    );
    const uri = vscode.Uri.file(file);
    type Summary = { total: number; errors: number };
    const s = await vscode.commands.executeCommand<Summary | undefined>('parrot.validateDataset', uri);
    assert.ok(s);
    assert.equal(s.errors, 0);
    const ds = vscode.languages.getDiagnostics(uri).filter((d) => d.source === 'parrot');
    assert.deepEqual(
      ds.map((d) => d.code),
      ['content/empty'],
    );
    const line = fs.readFileSync(file, 'utf8').split('\n')[1];
    const r = ds[0].range;
    assert.equal(r.start.line, 1);
    assert.equal(line.slice(r.start.character, r.end.character), '""');
    assert.ok(line.slice(0, r.start.character).endsWith('"text":'));
    // Without the entry the same records are of no known format.
    fs.renameSync(info, path.join(dir, 'other.json'));
    const raw = await vscode.commands.executeCommand<Summary | undefined>('parrot.validateDataset', uri);
    assert.equal(raw?.errors, 2);
  });
});

// Parquet datasets in the real extension host: pyarrow-written files opened in the dialogue editor,
// a turn edited through the webview message path and saved (the edited row changed, every other row
// equal to pyarrow's own reading, schema, metadata, codecs and row groups kept), undone across the
// save, a hot-exit backup restored, Save As JSON Lines, problems positioned by row.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { RecordView } from '../../src/protocol';
import { ParquetRowSource, writableCodec, type ParquetRecord } from '../../src/core/store/containers/parquet';
import { onEditor, postedRecord, sendAsWebview } from './support/webview';
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

function copyOf(name: string): vscode.Uri {
  const target = path.join(tmp, `${Math.random().toString(36).slice(2, 8)}-${name}`);
  fs.copyFileSync(path.join(containersDir(), name), target);
  return vscode.Uri.file(target);
}

/** pyarrow's own rows of a fixture (written beside it by make_parquet.py). */
function pyarrowRows(name: string): ParquetRecord[] {
  const file = path.join(containersDir(), name.replace(/\.parquet$/, '.pyarrow.json'));
  return JSON.parse(fs.readFileSync(file, 'utf8')) as ParquetRecord[];
}

/** A file's rows and layout, read by our reader (compared with pyarrow's rows above). */
async function readBack(file: string) {
  const src = await ParquetRowSource.open(file);
  try {
    const rows: ParquetRecord[] = [];
    for await (const { record } of src.records()) rows.push(record);
    return { rows, schema: src.metadata.schema, info: src.info };
  } finally {
    await src.close();
  }
}

const recordFor = (uri: vscode.Uri, line: number, test?: (r: RecordView) => boolean) =>
  postedRecord(api, uri, line, test);
const send = (uri: vscode.Uri, message: unknown): Promise<void> => sendAsWebview(api, uri, message);

function firstTurn(r: ParquetRecord): string {
  return (r.conversations as { value: string }[])[0].value;
}

describe('Parquet datasets in the dialogue editor', function () {
  this.timeout(120_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-parquet-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('a .parquet file opens in the dialogue editor by default (a text editor cannot show it); Reopen as Text is still offered', async () => {
    const uri = copyOf('pyarrow_row_groups.parquet');
    await vscode.commands.executeCommand('vscode.open', uri);
    const input = vscode.window.tabGroups.activeTabGroup.activeTab?.input;
    assert.ok(input instanceof vscode.TabInputCustom, 'a custom editor tab');
    assert.equal(input.viewType, 'parrot.parquetEditor');
    assert.equal(input.uri.toString(), uri.toString());
    assert.ok(api.editor.document(uri), 'the dialogue editor holds the document');
    await vscode.commands.executeCommand('workbench.action.closeActiveEditor');
  });

  it('opens a pyarrow file, edits one turn, saves a Parquet file whose other rows, schema, metadata, codecs and row groups are the original ones, and undoes across the save', async () => {
    const name = 'pyarrow_row_groups.parquet';
    const uri = copyOf(name);
    const want = pyarrowRows(name);
    const before = await readBack(uri.fsPath);
    assert.deepEqual(before.rows, want, 'our read of the original is pyarrow’s');
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    const r0 = (await first).record;
    assert.ok(r0.ok && r0.format === 'sharegpt', `record 1 read as ${r0.ok ? r0.format : 'broken'}`);
    assert.equal(r0.turns[0]?.text, firstTurn(want[0]));
    assert.equal(api.editor.documentState(uri)?.lineCount, want.length);

    // Row 31 is in the second row group (25 rows each).
    const edited = recordFor(uri, 30, (r) => r.ok && r.turns[0]?.text === 'An edited question — ü?');
    await send(uri, {
      type: 'editTurn',
      line: 30,
      section: 'turns',
      turn: 0,
      text: 'An edited question — ü?',
    });
    await edited;
    assert.equal(api.editor.documentState(uri)?.dirty, true);
    await onEditor('workbench.action.files.save');
    assert.equal(api.editor.documentState(uri)?.dirty, false);

    const after = await readBack(uri.fsPath);
    assert.equal(after.rows.length, want.length);
    assert.equal(firstTurn(after.rows[30]), 'An edited question — ü?');
    const expected = structuredClone(want[30]);
    (expected.conversations as { value: string }[])[0].value = 'An edited question — ü?';
    assert.deepEqual(after.rows[30], expected, 'only the edited turn of row 31 changed');
    for (let i = 0; i < want.length; i++)
      if (i !== 30) assert.deepEqual(after.rows[i], want[i], `row ${i + 1}`);
    assert.deepEqual(after.schema, before.schema);
    assert.deepEqual(after.info.columns, before.info.columns);
    assert.deepEqual(after.info.keyValueMetadata, before.info.keyValueMetadata);
    assert.ok(
      after.info.keyValueMetadata.some((kv) => kv.key === 'huggingface'),
      'the huggingface metadata is kept',
    );
    assert.deepEqual(after.info.rowGroups, before.info.rowGroups);
    assert.deepEqual(after.info.codecs, before.info.codecs);

    // Undo (across the save) and save again: pyarrow's rows, all of them.
    const undone = recordFor(uri, 30, (r) => r.ok && r.turns[0]?.text === firstTurn(want[30]));
    await onEditor('undo');
    await undone;
    assert.equal(api.editor.documentState(uri)?.dirty, true, 'undo across the save: unsaved again');
    await onEditor('workbench.action.files.save');
    assert.deepEqual((await readBack(uri.fsPath)).rows, want);
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });

  it('saves a zstd file with a codec this process can write, and says which codec it used', async () => {
    const name = 'pyarrow_zstd.parquet';
    const uri = copyOf(name);
    const want = pyarrowRows(name);
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    await first;
    await send(uri, { type: 'deleteDialogue', line: 2 });
    await onEditor('workbench.action.files.save');
    const doc = api.editor.document(uri);
    assert.ok(doc);
    const store = doc.store;
    assert.equal(store.containerKind, 'parquet');
    const wrote = store.containerKind === 'parquet' ? store.lastWrite : undefined;
    assert.ok(wrote);
    const zstd = writableCodec('ZSTD');
    assert.equal(wrote.codecs.conversations, zstd);
    // Node.js without a zstd compressor falls back to snappy, and the save reports it.
    assert.equal(
      wrote.codecFallbacks.some((f) => f.wanted === 'ZSTD'),
      zstd !== 'ZSTD',
    );
    const after = await readBack(uri.fsPath);
    assert.equal(after.info.codecs.conversations, zstd);
    assert.deepEqual(after.rows, [...want.slice(0, 2), ...want.slice(3)]);
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });

  it('writes a hot-exit backup of a dirty Parquet document (edits only) and restores it', async () => {
    const name = 'fastchat_dummy_conversation.parquet';
    const uri = copyOf(name);
    const want = pyarrowRows(name);
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    await first;
    const edited = recordFor(uri, 3, (r) => r.ok && r.turns[0]?.text === 'From the backup.');
    await send(uri, { type: 'editTurn', line: 3, section: 'turns', turn: 0, text: 'From the backup.' });
    await edited;
    await send(uri, { type: 'duplicateDialogue', line: 0 });
    const doc = api.editor.document(uri);
    assert.ok(doc);
    const destination = vscode.Uri.file(path.join(tmp, `backup-${path.basename(uri.fsPath)}.json`));
    const token = new vscode.CancellationTokenSource().token;
    const backup = await api.editor.provider.backupCustomDocument(doc, { destination }, token);
    const json = JSON.parse(fs.readFileSync(destination.fsPath, 'utf8')) as { format: string };
    assert.equal(json.format, 'parrot-store-backup');
    assert.ok(
      fs.statSync(destination.fsPath).size < fs.statSync(uri.fsPath).size,
      'the backup holds edits, not the file',
    );
    const restored = await api.editor.provider.openCustomDocument(
      uri,
      { backupId: backup.id, untitledDocumentData: undefined },
      token,
    );
    try {
      assert.equal(restored.isDirty, true);
      assert.equal(restored.lineCount, want.length + 1);
      const rows = (await restored.store.readLines(0, restored.lineCount)).map(
        (t) => JSON.parse(t) as ParquetRecord,
      );
      assert.deepEqual(rows[0], want[0]);
      // The duplicate: the same record with a new id.
      assert.deepEqual({ ...rows[1], id: want[0].id }, want[0]);
      assert.match(String(rows[1].id), new RegExp(`^${String(want[0].id)}-`));
      assert.equal(firstTurn(rows[4]), 'From the backup.');
      assert.deepEqual(rows.slice(5), want.slice(4));
    } finally {
      restored.dispose();
      backup.delete();
    }
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });

  it('saves a Parquet document as JSON Lines, and reports its problems by row', async () => {
    const name = 'pyarrow_snappy.parquet';
    const uri = copyOf(name);
    const want = pyarrowRows(name);
    const first = recordFor(uri, 0);
    await vscode.commands.executeCommand('vscode.openWith', uri, VIEW_TYPE, { preview: false });
    await first;
    const edited = recordFor(uri, 1, (r) => r.ok && r.turns[0]?.text === 'In JSON Lines.');
    await send(uri, { type: 'editTurn', line: 1, section: 'turns', turn: 0, text: 'In JSON Lines.' });
    await edited;
    const doc = api.editor.document(uri);
    assert.ok(doc);
    const target = vscode.Uri.file(path.join(tmp, 'saved-as.jsonl'));
    await doc.saveAs(target, new vscode.CancellationTokenSource().token);
    const lines = fs.readFileSync(target.fsPath, 'utf8').split('\n');
    assert.equal(lines.pop(), '', 'one record per line, each ending with a newline');
    const rows = lines.map((l) => JSON.parse(l) as ParquetRecord);
    assert.equal(rows.length, want.length);
    assert.equal(firstTurn(rows[1]), 'In JSON Lines.');
    assert.deepEqual(rows[0], want[0]);
    assert.deepEqual(rows.slice(2), want.slice(2));
    // The Parquet file itself is unchanged (Save As writes a copy).
    assert.deepEqual((await readBack(uri.fsPath)).rows, want);

    // Problems of a Parquet file say their row (the file has no lines): an empty turn in row 3.
    const bad = structuredClone(want);
    (bad[2].conversations as { value: string }[])[1].value = '';
    const withProblem = vscode.Uri.file(path.join(tmp, 'problem.parquet'));
    fs.copyFileSync(uri.fsPath, withProblem.fsPath);
    const store = doc.store;
    assert.ok(store.containerKind === 'parquet');
    const got = new Promise<vscode.Diagnostic[]>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no diagnostics for problem.parquet')), 30_000);
      const sub = vscode.languages.onDidChangeDiagnostics((e) => {
        if (!e.uris.some((u) => u.toString() === withProblem.toString())) return;
        const ds = vscode.languages.getDiagnostics(withProblem);
        if (!ds.some((d) => d.code === 'content/empty')) return;
        clearTimeout(timer);
        sub.dispose();
        resolve(ds);
      });
    });
    // Written through the store's own Save As, with the empty turn as the edit.
    await onEditor('workbench.action.revertAndCloseActiveEditor');
    const opened = recordFor(withProblem, 0);
    await vscode.commands.executeCommand('vscode.openWith', withProblem, VIEW_TYPE, { preview: false });
    await opened;
    await send(withProblem, { type: 'editTurn', line: 2, section: 'turns', turn: 1, text: '' });
    await onEditor('workbench.action.files.save');
    const problem = (await got).find((d) => d.code === 'content/empty');
    assert.ok(problem);
    assert.equal(problem.range.start.line, 2);
    assert.equal(problem.range.start.character, 0);
    assert.match(problem.message, /^row 3: /);
    assert.deepEqual((await readBack(withProblem.fsPath)).rows, bad);
    await onEditor('workbench.action.revertAndCloseActiveEditor');
  });
});

// Every published dataset of the fixtures (JSON Lines, LLaMA-Factory's and FastChat's JSON arrays as
// published, pyarrow-written Parquet) in the real extension host: opened in the dialogue editor, one
// turn edited through the webview message path and saved, read back (the edited record carries the
// edit, every other record equal to the original), and validated before and after the save with the
// same problems.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ParrotApi } from '../../src/extension/extension';
import type { RecordOk, Section } from '../../src/protocol';
import { ParquetRowSource } from '../../src/core/store/containers/parquet';
import { onEditor, postedRecord, sendAsWebview } from './support/webview';
import { datasetsIn } from '../support/fixtures';

const EXTENSION_ID = 'parrot-studio.parrot-studio';
const EDIT = ' — edited, "quoted" ü';

let api: ParrotApi;
let tmp: string;

/** The records of a file, read independently of the store: lines, `JSON.parse`, or Parquet rows. */
async function recordsOf(file: string): Promise<unknown[]> {
  if (file.endsWith('.parquet')) {
    const src = await ParquetRowSource.open(file);
    try {
      const rows: unknown[] = [];
      for await (const { record } of src.records()) rows.push(record);
      return rows;
    } finally {
      await src.close();
    }
  }
  const text = fs.readFileSync(file, 'utf8');
  if (file.endsWith('.json')) return JSON.parse(text) as unknown[];
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as unknown);
}

/** The published datasets: every JSONL file, and the JSON arrays and Parquet files of containers/. */
function publishedFiles(root: string): string[] {
  const containers = path.join(root, 'containers');
  return [
    ...fs
      .readdirSync(root)
      .filter((n) => n.endsWith('.jsonl'))
      .map((n) => path.join(root, n)),
    ...fs
      .readdirSync(containers)
      // *.pyarrow.json are pyarrow's own readings of the Parquet fixtures (test oracles, not datasets).
      .filter((n) => (n.endsWith('.json') && !n.endsWith('.pyarrow.json')) || n.endsWith('.parquet'))
      .map((n) => path.join(containers, n)),
  ];
}

/** The first turn of record 1 that can be edited: its section and text. */
function firstTurn(r: RecordOk): { section: Section; text: string } {
  for (const section of ['turns', 'prompt', 'chosen', 'rejected'] as const) {
    const t = r[section][0];
    if (t) return { section, text: t.text };
  }
  throw new Error(`record 1 (${r.format}) has no turn`);
}

/** Every problem published for `uri`, as code + line (the edit keeps every record on its lines). */
function problems(uri: vscode.Uri): string[] {
  return vscode.languages
    .getDiagnostics(uri)
    .map((d) => `${String(typeof d.code === 'object' ? d.code.value : d.code)}@${d.range.start.line}`)
    .sort();
}

function changedPaths(a: unknown, b: unknown, at = ''): string[] {
  if (JSON.stringify(a) === JSON.stringify(b)) return [];
  if (a && b && typeof a === 'object' && typeof b === 'object') {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      changedPaths((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${at}/${k}`),
    );
  }
  return [at];
}

describe('every published dataset: open, edit, save, validate', function () {
  this.timeout(300_000);

  before(async () => {
    const ext = vscode.extensions.getExtension<ParrotApi>(EXTENSION_ID);
    assert.ok(ext);
    api = await ext.activate();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'parrot-every-'));
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('opens, edits one turn, saves and validates each file of the fixtures', async () => {
    const ext = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(ext);
    const files = publishedFiles(datasetsIn(ext.extensionPath));
    const kinds = new Set(files.map((f) => path.extname(f)));
    assert.deepEqual([...kinds].sort(), ['.json', '.jsonl', '.parquet'], files.join(', '));
    for (const source of files) {
      const name = path.basename(source);
      const target = path.join(tmp, name);
      fs.copyFileSync(source, target);
      const uri = vscode.Uri.file(target);
      const before = await recordsOf(target);

      const checked = await api.diagnostics.validateUri(uri);
      assert.ok(checked, `${name}: validated`);
      assert.equal(checked.lines, before.length, `${name}: records validated`);
      const problemsBefore = problems(uri);

      const first = postedRecord(api, uri, 0);
      // Parquet opens in the dialogue editor by default; .jsonl and .json are asked for.
      if (name.endsWith('.parquet')) await vscode.commands.executeCommand('vscode.open', uri);
      else
        await vscode.commands.executeCommand('vscode.openWith', uri, api.editor.viewType, { preview: false });
      const r0 = (await first).record;
      let text: string;
      if (r0.ok) {
        const turn = firstTurn(r0);
        text = turn.text;
        const edited = postedRecord(api, uri, 0, (r) => r.ok && r[turn.section][0]?.text === text + EDIT);
        await sendAsWebview(api, uri, {
          type: 'editTurn',
          line: 0,
          section: turn.section,
          turn: 0,
          text: text + EDIT,
        });
        await edited;
      } else {
        // A record of no dialogue format (MT-Bench's reference answers: judge material) is shown as
        // its JSON text with the reason, and edited as text: its first answer gets the edit.
        assert.match(r0.error.message, /no known dataset format/, `${name}: ${r0.error.message}`);
        const value = JSON.parse(r0.raw) as { choices: { turns: string[] }[] };
        const answers = value.choices[0]?.turns ?? [];
        text = answers[0] ?? '';
        answers[0] = text + EDIT;
        const edited = postedRecord(api, uri, 0, (r) => r.raw.includes(JSON.stringify(text + EDIT)));
        await sendAsWebview(api, uri, { type: 'replaceRecord', line: 0, text: JSON.stringify(value) });
        await edited;
      }
      await onEditor('workbench.action.files.save');
      assert.equal(api.editor.documentState(uri)?.dirty, false, `${name}: saved`);

      const after = await recordsOf(target);
      assert.equal(after.length, before.length, `${name}: record count`);
      for (let i = 1; i < before.length; i++)
        assert.deepEqual(after[i], before[i], `${name}: record ${i + 1}`);
      const changed = changedPaths(before[0], after[0]);
      assert.equal(changed.length, 1, `${name}: one value of record 1 changed (${changed.join(', ')})`);
      assert.ok(
        JSON.stringify(after[0]).includes(JSON.stringify(text + EDIT).slice(1, -1)),
        `${name}: the edit`,
      );

      // The save starts the editor's own validation of the file; this one runs after it.
      await api.diagnostics.settled(uri);
      const again = await api.diagnostics.validateUri(uri);
      assert.equal(
        again?.lines,
        before.length,
        `${name}: records validated after the save (${JSON.stringify(again)})`,
      );
      // The edit makes record 1 differ from its duplicates, if it had any (a fixture that repeats its
      // records): those duplicate problems may go, no other problem changes.
      const after$ = problems(uri);
      const same = (list: string[]) => list.filter((p) => !p.startsWith('duplicate/'));
      assert.deepEqual(same(after$), same(problemsBefore), `${name}: the same problems after the save`);
      const before$ = new Set(problemsBefore);
      assert.ok(
        after$.every((p) => before$.has(p)),
        `${name}: no new problem after the save`,
      );
      await onEditor('workbench.action.closeActiveEditor');
    }
  });
});
